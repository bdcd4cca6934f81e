/**
 * A part of a model as a model of its own: some nodes of the main graph, the values they read from
 * before them declared as inputs, the initializers they read shared (not copied), and the values
 * named as outputs. What layer-by-layer calibration runs, one part at a time, so that ONNX Runtime
 * never holds more than one part's weights.
 */
import { Graph } from './graph.js';
import { Model } from './model.js';
import type { Node } from './node.js';
import { Value } from './value.js';
import { cloneNode } from './clone.js';
import { cloneType, type TypeInfo } from './types.js';
import { nodeReads } from './passes/topological-sort.js';

/**
 * `nodes` (main-graph nodes, in order) as a model. `inputs` declares the part's inputs, in order, with
 * their types: every value read from outside the part that is not an initializer (graph inputs or
 * other parts' outputs) must be among them; others may be (inputs the part only passes on, or
 * initializers to be fed instead of stored). `outputs`
 * names the values the part hands on. Throws when a node reads something else (a bug in the caller).
 */
export function extractPart(model: Model, nodes: readonly Node[], inputs: ReadonlyMap<string, TypeInfo | undefined>, outputs: readonly string[]): Model {
  const main = model.graph;
  const g = new Graph(`${main.name}_part`);
  const map = new Map<Value, Value>();
  const produced = new Set<Value>(nodes.flatMap((n) => n.outputs));
  // Every named input is declared, read by the part or not (the first part takes all the data).
  const outside = new Map<string, Value>();
  for (const v of main.inputs) outside.set(v.name, v);
  // An initializer may be declared an input too (type inference without the weights: discover.ts).
  for (const [name, v] of main.initializers) if (!outside.has(name)) outside.set(name, v);
  for (const n of main.nodes) for (const o of n.outputs) outside.set(o.name, o);
  for (const [name, type] of inputs) {
    const v = outside.get(name);
    if (!v) throw new Error(`extractPart: no value '${name}' in the main graph`);
    const nv = new Value(name, cloneType(type));
    g.addInput(nv);
    map.set(v, nv);
  }
  for (const n of nodes) {
    for (const v of nodeReads(n)) {
      // Values of the node's own subgraphs are copied with them.
      if (map.has(v) || produced.has(v) || v.graph !== main) continue;
      if (v.constValue) {
        const nv = new Value(v.name, cloneType(v.type));
        nv.constValue = v.constValue;
        g.addInitializer(nv);
        map.set(v, nv);
      } else {
        throw new Error(`extractPart: ${n.label()} reads '${v.name}', which is neither produced in the part, nor an input, nor an initializer`);
      }
    }
  }
  const get = (v: Value | null): Value | null => {
    if (!v) return null;
    let nv = map.get(v);
    if (!nv) map.set(v, (nv = new Value(v.name, cloneType(v.type))));
    return nv;
  };
  for (const n of nodes) g.append(cloneNode(n, get, map));
  const byName = new Map([...produced].map((v) => [v.name, v]));
  g.outputs = outputs.map((name) => {
    const v = byName.get(name);
    if (!v) throw new Error(`extractPart: output '${name}' is not produced by the part`);
    return get(v)!;
  });
  const part = new Model(g);
  part.irVersion = model.irVersion;
  part.opsetImports = new Map(model.opsetImports);
  part.functions = model.functions;
  part.baseDir = model.baseDir;
  part.sourcePath = model.sourcePath;
  return part;
}
