/**
 * Structural copies of graphs and models. Tensors are shared, not copied: passes replace an
 * initializer's tensor rather than mutating it in place, so sharing is safe and cloning is cheap.
 */
import { Graph } from './graph.js';
import { Model } from './model.js';
import { Node } from './node.js';
import { Value } from './value.js';
import { AttrType, type Attribute } from './attribute.js';
import { cloneType } from './types.js';

export function cloneValue(v: Value): Value {
  const c = new Value(v.name, cloneType(v.type));
  if (v.docString !== undefined) c.docString = v.docString;
  if (v.metadataProps) c.metadataProps = v.metadataProps.map(([a, b]) => [a, b]);
  if (v.constValue) c.constValue = v.constValue;
  if (v.sparseValue) c.sparseValue = v.sparseValue;
  return c;
}

/** Copies a graph; `outer` maps values of enclosing graphs to their copies. */
export function cloneGraph(g: Graph, outer: Map<Value, Value> = new Map()): Graph {
  const map = new Map(outer);
  const c = new Graph(g.name);
  if (g.docString !== undefined) c.docString = g.docString;
  if (g.metadataProps) c.metadataProps = g.metadataProps.map(([a, b]) => [a, b]);
  c.quantizationAnnotation = g.quantizationAnnotation.map((a) => ({ tensorName: a.tensorName, params: a.params.map(([x, y]) => [x, y]) }));
  for (const v of g.inputs) {
    const nv = cloneValue(v);
    map.set(v, nv);
    c.addInput(nv);
  }
  for (const v of g.initializers.values()) {
    const nv = map.get(v) ?? cloneValue(v);
    map.set(v, nv);
    c.addInitializer(nv);
  }
  for (const v of g.sparseInitializers) {
    const nv = cloneValue(v);
    nv.graph = c;
    map.set(v, nv);
    c.sparseInitializers.push(nv);
  }
  // Values used before their producer (not topologically sorted) get their copy on first sight.
  const get = (v: Value | null): Value | null => {
    if (!v) return null;
    let nv = map.get(v);
    if (!nv) {
      nv = cloneValue(v);
      map.set(v, nv);
    }
    return nv;
  };
  for (const n of g.nodes) c.append(cloneNode(n, get, map));
  c.outputs = g.outputs.map((o) => get(o)!);
  return c;
}

/** A copy of `n` whose inputs and outputs are `get`'s copies; `map` serves its subgraphs' outer reads. */
export function cloneNode(n: Node, get: (v: Value | null) => Value | null, map: Map<Value, Value>): Node {
  const nn = new Node(n.opType, n.inputs.map(get), n.outputs.map((o) => get(o)!), { name: n.name, domain: n.domain });
  nn.overload = n.overload;
  if (n.docString !== undefined) nn.docString = n.docString;
  if (n.metadataProps) nn.metadataProps = n.metadataProps.map(([a, b]) => [a, b]);
  if (n.passthrough) nn.passthrough = { ...n.passthrough };
  for (const a of n.attributes.values()) nn.attributes.set(a.name, cloneAttribute(a, map));
  return nn;
}

function cloneAttribute(a: Attribute, map: Map<Value, Value>): Attribute {
  if (a.type === AttrType.GRAPH) return { ...a, value: cloneGraph(a.value, map) };
  if (a.type === AttrType.GRAPHS) return { ...a, value: a.value.map((g) => cloneGraph(g, map)) };
  if (a.type === AttrType.INTS || a.type === AttrType.FLOATS) return { ...a, value: [...a.value] } as Attribute;
  return { ...a };
}

export function cloneModel(m: Model): Model {
  const c = new Model(cloneGraph(m.graph));
  c.irVersion = m.irVersion;
  c.opsetImports = new Map(m.opsetImports);
  c.producerName = m.producerName;
  c.producerVersion = m.producerVersion;
  c.domain = m.domain;
  if (m.modelVersion !== undefined) c.modelVersion = m.modelVersion;
  if (m.docString !== undefined) c.docString = m.docString;
  c.metadataProps = m.metadataProps.map(([a, b]) => [a, b]);
  c.functions = m.functions.map((f) => ({
    ...f,
    body: cloneGraph(f.body),
    attributes: [...f.attributes],
    attributeProtos: f.attributeProtos.map((a) => cloneAttribute(a, new Map())),
    opsetImports: new Map(f.opsetImports),
  }));
  for (const f of c.functions) c.registerNames(f.body);
  c.passthrough = { ...m.passthrough };
  c.baseDir = m.baseDir;
  c.sourcePath = m.sourcePath;
  return c;
}
