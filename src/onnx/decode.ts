/** ModelProto bytes -> IR Model. Values are resolved by name once, here; the IR holds edges after that. */
import { Graph } from '../ir/graph.js';
import { Model, type IrFunction } from '../ir/model.js';
import { Node } from '../ir/node.js';
import { Value } from '../ir/value.js';
import { AttrType, type Attribute } from '../ir/attribute.js';
import { InvalidModelError } from '../errors.js';
import { onnxTypes, type AttributeMsg, type FunctionMsg, type GraphMsg, type ModelMsg, type NodeMsg, type ValueInfoMsg } from './schema.js';
import { whyNotOnnx } from './not-onnx.js';
import { decodeSparseTensor, decodeStringMap, decodeTensor, decodeType, has, num, type DecodeContext } from './decode-tensor.js';

/** Name scope for decoding: a graph's values, chained to the enclosing graph's scope. */
class Scope {
  readonly values = new Map<string, Value>();
  /** Names used before any node defined them (files that are not topologically sorted). */
  readonly pending = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}

  lookup(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.lookup(name);
  }

  /** The value a node input refers to; a placeholder when it is defined later in the file. */
  resolve(name: string): Value | null {
    if (name === '') return null;
    const v = this.lookup(name) ?? this.pending.get(name);
    if (v) return v;
    const placeholder = new Value(name);
    this.pending.set(name, placeholder);
    return placeholder;
  }
}

/** Decodes nodes in file order into `g`, defining their outputs in `scope`. */
function decodeNodes(msgs: NodeMsg[], g: Graph, scope: Scope, ctx: DecodeContext, where: (what: string) => string): void {
  for (const nm of msgs) {
    const node = decodeNode(nm, scope, ctx);
    g.append(node);
    for (const o of node.outputs) {
      if (!o.name) continue;
      if (scope.values.has(o.name)) throw new InvalidModelError(where(`value '${o.name}' is defined twice (second time by node ${node.label()})`));
      scope.values.set(o.name, o);
      scope.pending.delete(o.name);
    }
  }
}

export interface DecodeOptions {
  /** Directory that external data locations are relative to. */
  baseDir?: string;
  /** File name used in error messages. */
  source?: string;
}

export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  const source = options.source ?? '<bytes>';
  const ctx: DecodeContext = { baseDir: options.baseDir, source };
  let msg: ModelMsg;
  try {
    msg = onnxTypes().ModelProto.decode(bytes) as unknown as ModelMsg;
  } catch (err) {
    throw new InvalidModelError(`${source}: not a valid ONNX model: ${whyNotOnnx(bytes, err)}`);
  }
  if (!has(msg, 'graph') || !has(msg, 'ir_version')) {
    throw new InvalidModelError(`${source}: not an ONNX model (no ${has(msg, 'graph') ? 'ir_version' : 'graph'} field); check that this is a .onnx file`);
  }
  const model = new Model(new Graph());
  model.irVersion = num(msg.ir_version);
  model.opsetImports = new Map((msg.opset_import ?? []).map((o) => [o.domain === 'ai.onnx' ? '' : o.domain ?? '', num(o.version)]));
  model.producerName = msg.producer_name ?? '';
  model.producerVersion = msg.producer_version ?? '';
  model.domain = msg.domain ?? '';
  if (has(msg, 'model_version')) model.modelVersion = num(msg.model_version);
  if (has(msg, 'doc_string')) model.docString = msg.doc_string;
  model.metadataProps = decodeStringMap(msg.metadata_props) ?? [];
  if (msg.training_info?.length) model.passthrough.training_info = msg.training_info;
  if (msg.configuration?.length) model.passthrough.configuration = msg.configuration;
  model.baseDir = options.baseDir;
  if (options.source) model.sourcePath = options.source;
  model.graph = decodeGraph(msg.graph!, new Scope(null), ctx);
  model.functions = (msg.functions ?? []).map((f) => decodeFunction(f, ctx));
  model.registerNames();
  for (const f of model.functions) model.registerNames(f.body);
  return model;
}

function applyValueInfo(v: Value, info: ValueInfoMsg): void {
  const t = decodeType(info.type);
  if (t) v.type = t;
  if (has(info, 'doc_string')) v.docString = info.doc_string;
  const meta = decodeStringMap(info.metadata_props);
  if (meta) v.metadataProps = meta;
}

function decodeGraph(msg: GraphMsg, scope: Scope, ctx: DecodeContext, parent: Node | null = null): Graph {
  const g = new Graph(msg.name ?? '');
  g.parent = parent;
  if (has(msg, 'doc_string')) g.docString = msg.doc_string;
  const meta = decodeStringMap(msg.metadata_props);
  if (meta) g.metadataProps = meta;
  const where = (what: string) => `${ctx.source}: graph '${g.name}': ${what}`;

  for (const info of msg.input ?? []) {
    const v = new Value(info.name ?? '');
    applyValueInfo(v, info);
    g.addInput(v);
    scope.values.set(v.name, v);
  }
  for (const tm of msg.initializer ?? []) {
    const tensor = decodeTensor(tm, ctx);
    const existing = scope.values.get(tensor.name);
    const v = existing && existing.graph === g ? existing : new Value(tensor.name);
    v.constValue = tensor;
    g.addInitializer(v);
    scope.values.set(v.name, v);
  }
  for (const sm of msg.sparse_initializer ?? []) {
    const sparse = decodeSparseTensor(sm, ctx);
    const name = sparse.values.name;
    const v = scope.values.get(name) ?? new Value(name);
    v.sparseValue = sparse;
    v.graph = g;
    g.sparseInitializers.push(v);
    scope.values.set(name, v);
  }

  decodeNodes(msg.node ?? [], g, scope, ctx, where);
  if (scope.pending.size > 0) {
    const [name, v] = scope.pending.entries().next().value as [string, Value];
    const user = v.uses[0]?.node.label() ?? '?';
    throw new InvalidModelError(where(`node ${user} uses '${name}', which no node, graph input or initializer defines`));
  }
  for (const info of msg.value_info ?? []) {
    const v = scope.values.get(info.name ?? '');
    if (v) applyValueInfo(v, info);
  }
  for (const info of msg.output ?? []) {
    const v = scope.lookup(info.name ?? '');
    if (!v) throw new InvalidModelError(where(`output '${info.name}' is not produced by any node, input or initializer`));
    applyValueInfo(v, info);
    g.outputs.push(v);
  }
  g.quantizationAnnotation = (msg.quantization_annotation ?? []).map((a) => ({
    tensorName: a.tensor_name ?? '',
    params: decodeStringMap(a.quant_parameter_tensor_names) ?? [],
  }));
  return g;
}

function decodeNode(msg: NodeMsg, scope: Scope, ctx: DecodeContext): Node {
  const outputs = (msg.output ?? []).map((name) => scope.pending.get(name) ?? new Value(name));
  const node = new Node(msg.op_type ?? '', (msg.input ?? []).map((n) => scope.resolve(n)), outputs, {
    name: msg.name ?? '',
    domain: msg.domain ?? '',
  });
  if (has(msg, 'overload')) node.overload = msg.overload ?? '';
  if (has(msg, 'doc_string')) node.docString = msg.doc_string;
  const meta = decodeStringMap(msg.metadata_props);
  if (meta) node.metadataProps = meta;
  if (msg.device_configurations?.length) node.passthrough = { device_configurations: msg.device_configurations };
  for (const am of msg.attribute ?? []) {
    const a = decodeAttribute(am, ctx, (gm) => decodeGraph(gm, new Scope(scope), ctx, node));
    node.attributes.set(a.name, a);
  }
  return node;
}

/** Infers the type of attributes from files that omit `type` (very old exporters). */
function attrType(msg: AttributeMsg): AttrType {
  if (msg.type) return msg.type;
  if (has(msg, 'f')) return AttrType.FLOAT;
  if (has(msg, 'i')) return AttrType.INT;
  if (has(msg, 's')) return AttrType.STRING;
  if (has(msg, 't')) return AttrType.TENSOR;
  if (has(msg, 'g')) return AttrType.GRAPH;
  if (msg.floats?.length) return AttrType.FLOATS;
  if (msg.ints?.length) return AttrType.INTS;
  if (msg.strings?.length) return AttrType.STRINGS;
  if (msg.tensors?.length) return AttrType.TENSORS;
  if (msg.graphs?.length) return AttrType.GRAPHS;
  return AttrType.UNDEFINED;
}

function decodeAttribute(msg: AttributeMsg, ctx: DecodeContext, graph: (g: GraphMsg) => Graph): Attribute {
  const base = { name: msg.name ?? '' } as { name: string; docString?: string; refAttrName?: string };
  if (has(msg, 'doc_string')) base.docString = msg.doc_string;
  if (has(msg, 'ref_attr_name')) base.refAttrName = msg.ref_attr_name;
  const type = attrType(msg);
  switch (type) {
    case AttrType.FLOAT: return { ...base, type, value: msg.f ?? 0 };
    case AttrType.INT: return { ...base, type, value: num(msg.i) };
    case AttrType.STRING: return { ...base, type, value: msg.s ?? new Uint8Array(0) };
    case AttrType.TENSOR: return { ...base, type, value: decodeTensor(msg.t ?? {}, ctx) };
    case AttrType.GRAPH: return { ...base, type, value: graph(msg.g ?? {}) };
    case AttrType.SPARSE_TENSOR: return { ...base, type, value: decodeSparseTensor(msg.sparse_tensor ?? {}, ctx) };
    case AttrType.TYPE_PROTO: return { ...base, type, value: decodeType(msg.tp)! };
    case AttrType.FLOATS: return { ...base, type, value: [...(msg.floats ?? [])] };
    case AttrType.INTS: return { ...base, type, value: (msg.ints ?? []).map(num) };
    case AttrType.STRINGS: return { ...base, type, value: [...(msg.strings ?? [])] };
    case AttrType.TENSORS: return { ...base, type, value: (msg.tensors ?? []).map((t) => decodeTensor(t, ctx)) };
    case AttrType.GRAPHS: return { ...base, type, value: (msg.graphs ?? []).map(graph) };
    case AttrType.SPARSE_TENSORS: return { ...base, type, value: (msg.sparse_tensors ?? []).map((s) => decodeSparseTensor(s, ctx)) };
    case AttrType.TYPE_PROTOS: return { ...base, type, value: (msg.type_protos ?? []).map((t) => decodeType(t)!) };
    default:
      // An attribute with no value (possible inside functions with ref_attr_name): keep it as empty INTS.
      return { ...base, type: AttrType.INTS, value: [] };
  }
}

function decodeFunction(msg: FunctionMsg, ctx: DecodeContext): IrFunction {
  const scope = new Scope(null);
  const body = new Graph(msg.name ?? '');
  for (const name of msg.input ?? []) {
    const v = new Value(name);
    body.addInput(v);
    scope.values.set(name, v);
  }
  decodeNodes(msg.node ?? [], body, scope, ctx, (what) => `${ctx.source}: function '${msg.name}': ${what}`);
  for (const info of msg.value_info ?? []) {
    const v = scope.values.get(info.name ?? '');
    if (v) applyValueInfo(v, info);
  }
  for (const name of msg.output ?? []) {
    const v = scope.lookup(name);
    if (!v) throw new InvalidModelError(`${ctx.source}: function '${msg.name}': output '${name}' is not produced`);
    body.outputs.push(v);
  }
  const fn: IrFunction = {
    domain: msg.domain ?? '',
    name: msg.name ?? '',
    overload: msg.overload ?? '',
    body,
    attributes: [...(msg.attribute ?? [])],
    attributeProtos: (msg.attribute_proto ?? []).map((a) => decodeAttribute(a, ctx, (gm) => decodeGraph(gm, new Scope(scope), ctx))),
    opsetImports: new Map((msg.opset_import ?? []).map((o) => [o.domain === 'ai.onnx' ? '' : o.domain ?? '', num(o.version)])),
  };
  if (has(msg, 'doc_string')) fn.docString = msg.doc_string;
  const meta = decodeStringMap(msg.metadata_props);
  if (meta) fn.metadataProps = meta;
  return fn;
}
