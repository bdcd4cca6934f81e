/** IR Model -> ModelProto bytes. External data is written through a sink so big weights stream to disk. */
import protobuf from 'protobufjs';
import type { Graph } from '../ir/graph.js';
import type { Model, IrFunction } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { AttrType, type Attribute, type SparseTensor } from '../ir/attribute.js';
import { DataType } from '../ir/data-type.js';
import type { Tensor, StringMap } from '../ir/tensor.js';
import type { Dim, TypeInfo } from '../ir/types.js';
import {
  onnxTypes, type AttributeMsg, type FunctionMsg, type GraphMsg, type Long, type ModelMsg, type NodeMsg,
  type SparseTensorMsg, type StringStringEntryMsg, type TensorMsg, type TypeMsg, type ValueInfoMsg,
} from './schema.js';

/** Decides where tensor bytes go: return an external location to store them outside the protobuf. */
export interface TensorSink {
  external(tensor: Tensor): { location: string; offset: number; length: number } | undefined;
}

const LongCtor = protobuf.util.Long as unknown as { fromNumber(n: number): Long };

/** number -> int64 for protobufjs, saturating at INT64_MIN/MAX (so INT64_MAX survives a round trip). */
function i64(n: number): Long {
  if (Number.isSafeInteger(n) && n >= 0 && n <= 0x7fffffff) return n;
  return LongCtor ? LongCtor.fromNumber(n) : n;
}

function stringMap(m: StringMap | undefined): StringStringEntryMsg[] | undefined {
  return m && m.length ? m.map(([key, value]) => ({ key, value })) : undefined;
}

/** Assigns only defined fields, so absent optional fields stay absent in the output. */
function set<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

export function encodeTensor(t: Tensor, sink?: TensorSink): TensorMsg {
  const msg: TensorMsg = { dims: t.dims.map(i64), data_type: t.dataType };
  if (t.name) msg.name = t.name;
  set(msg, 'doc_string', t.docString);
  set(msg, 'metadata_props', stringMap(t.metadataProps));
  if (t.segment) msg.segment = { begin: i64(t.segment.begin), end: i64(t.segment.end) };
  if (t.dataType === DataType.STRING) {
    msg.string_data = t.strings();
    return msg;
  }
  const ext = sink?.external(t);
  if (ext) {
    msg.data_location = 1;
    msg.external_data = [
      { key: 'location', value: ext.location },
      { key: 'offset', value: String(ext.offset) },
      { key: 'length', value: String(ext.length) },
    ];
    return msg;
  }
  msg.raw_data = t.bytes();
  return msg;
}

function encodeSparse(s: SparseTensor, sink?: TensorSink): SparseTensorMsg {
  return { values: encodeTensor(s.values, sink), indices: encodeTensor(s.indices, sink), dims: s.dims.map(i64) };
}

function encodeDims(shape: Dim[], den: (string | undefined)[] | undefined) {
  return {
    dim: shape.map((d, i) => {
      const m: { dim_value?: Long; dim_param?: string; denotation?: string } = {};
      if (typeof d === 'number') m.dim_value = i64(d);
      else if (typeof d === 'string') m.dim_param = d;
      if (den?.[i] !== undefined) m.denotation = den[i];
      return m;
    }),
  };
}

export function encodeType(t: TypeInfo): TypeMsg {
  const msg: TypeMsg = {};
  switch (t.kind) {
    case 'tensor':
    case 'sparse_tensor': {
      const inner: { elem_type?: number; shape?: { dim?: unknown[] } } = { elem_type: t.elemType };
      if (t.shape) inner.shape = encodeDims(t.shape, t.dimDenotations);
      if (t.kind === 'tensor') msg.tensor_type = inner as TypeMsg['tensor_type'];
      else msg.sparse_tensor_type = inner as TypeMsg['sparse_tensor_type'];
      break;
    }
    case 'sequence': msg.sequence_type = t.elem ? { elem_type: encodeType(t.elem) } : {}; break;
    case 'map': msg.map_type = { key_type: t.keyType, ...(t.value ? { value_type: encodeType(t.value) } : {}) }; break;
    case 'optional': msg.optional_type = t.elem ? { elem_type: encodeType(t.elem) } : {}; break;
    case 'opaque': msg.opaque_type = { domain: t.domain, name: t.name }; break;
  }
  set(msg, 'denotation', t.denotation);
  return msg;
}

function valueInfo(v: Value, type: TypeInfo | undefined = v.type): ValueInfoMsg {
  const msg: ValueInfoMsg = { name: v.name };
  if (type) msg.type = encodeType(type);
  set(msg, 'doc_string', v.docString);
  set(msg, 'metadata_props', stringMap(v.metadataProps));
  return msg;
}

function encodeAttribute(a: Attribute, sink?: TensorSink): AttributeMsg {
  const msg: AttributeMsg = { name: a.name, type: a.type };
  set(msg, 'doc_string', a.docString);
  set(msg, 'ref_attr_name', a.refAttrName);
  switch (a.type) {
    case AttrType.FLOAT: msg.f = a.value; break;
    case AttrType.INT: msg.i = i64(a.value); break;
    case AttrType.STRING: msg.s = a.value; break;
    case AttrType.TENSOR: msg.t = encodeTensor(a.value, sink); break;
    case AttrType.GRAPH: msg.g = encodeGraph(a.value, sink); break;
    case AttrType.SPARSE_TENSOR: msg.sparse_tensor = encodeSparse(a.value, sink); break;
    case AttrType.TYPE_PROTO: msg.tp = encodeType(a.value); break;
    case AttrType.FLOATS: msg.floats = a.value; break;
    case AttrType.INTS: msg.ints = a.value.map(i64); break;
    case AttrType.STRINGS: msg.strings = a.value; break;
    case AttrType.TENSORS: msg.tensors = a.value.map((t) => encodeTensor(t, sink)); break;
    case AttrType.GRAPHS: msg.graphs = a.value.map((g) => encodeGraph(g, sink)); break;
    case AttrType.SPARSE_TENSORS: msg.sparse_tensors = a.value.map((s) => encodeSparse(s, sink)); break;
    case AttrType.TYPE_PROTOS: msg.type_protos = a.value.map(encodeType); break;
  }
  return msg;
}

function encodeNode(n: Node, sink?: TensorSink): NodeMsg {
  const msg: NodeMsg = {
    input: n.inputs.map((v) => v?.name ?? ''),
    output: n.outputs.map((v) => v.name),
    op_type: n.opType,
  };
  if (n.name) msg.name = n.name;
  if (n.domain) msg.domain = n.domain;
  if (n.overload) msg.overload = n.overload;
  if (n.attributes.size) msg.attribute = [...n.attributes.values()].map((a) => encodeAttribute(a, sink));
  set(msg, 'doc_string', n.docString);
  set(msg, 'metadata_props', stringMap(n.metadataProps));
  if (n.passthrough?.device_configurations) msg.device_configurations = n.passthrough.device_configurations as unknown[];
  return msg;
}

export function encodeGraph(g: Graph, sink?: TensorSink): GraphMsg {
  const msg: GraphMsg = { name: g.name };
  msg.node = g.nodes.map((n) => encodeNode(n, sink));
  msg.initializer = [...g.initializers.values()].map((v) => encodeTensor(v.constValue!, sink));
  if (g.sparseInitializers.length) msg.sparse_initializer = g.sparseInitializers.map((v) => encodeSparse(v.sparseValue!, sink));
  set(msg, 'doc_string', g.docString);
  msg.input = g.inputs.map((v) => valueInfo(v));
  msg.output = g.outputs.map((v) => valueInfo(v));
  // value_info: every typed intermediate value (not graph inputs/outputs/initializers).
  const declared = new Set<Value>([...g.inputs, ...g.outputs]);
  const infos: ValueInfoMsg[] = [];
  for (const v of g.initializers.values()) {
    // Exporters (torch.export) annotate initializers in value_info; the type is taken from the
    // tensor itself so a rewritten weight (say, now int8) can never carry a stale declaration.
    if (declared.has(v) || (!v.type && !v.docString && !v.metadataProps)) continue;
    declared.add(v);
    const t = v.constValue!;
    infos.push(valueInfo(v, { kind: 'tensor', elemType: t.dataType, shape: [...t.dims] }));
  }
  for (const v of g.initializers.values()) declared.add(v);
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o.name || declared.has(o) || (!o.type && !o.docString && !o.metadataProps)) continue;
      declared.add(o);
      infos.push(valueInfo(o));
    }
  }
  if (infos.length) msg.value_info = infos;
  if (g.quantizationAnnotation.length) {
    msg.quantization_annotation = g.quantizationAnnotation.map((a) => ({
      tensor_name: a.tensorName,
      quant_parameter_tensor_names: stringMap(a.params) ?? [],
    }));
  }
  set(msg, 'metadata_props', stringMap(g.metadataProps));
  return msg;
}

function encodeFunction(f: IrFunction, sink?: TensorSink): FunctionMsg {
  const body = encodeGraph(f.body, sink);
  const msg: FunctionMsg = {
    name: f.name,
    input: f.body.inputs.map((v) => v.name),
    output: f.body.outputs.map((v) => v.name),
    attribute: f.attributes,
    node: body.node ?? [],
    opset_import: [...f.opsetImports].map(([domain, version]) => ({ domain, version: i64(version) })),
    domain: f.domain,
  };
  if (f.attributeProtos.length) msg.attribute_proto = f.attributeProtos.map((a) => encodeAttribute(a, sink));
  if (f.overload) msg.overload = f.overload;
  set(msg, 'doc_string', f.docString);
  if (body.value_info?.length) msg.value_info = body.value_info;
  set(msg, 'metadata_props', stringMap(f.metadataProps));
  return msg;
}

export function modelMessage(model: Model, sink?: TensorSink): ModelMsg {
  const msg: ModelMsg = {
    ir_version: i64(model.irVersion),
    opset_import: [...model.opsetImports].map(([domain, version]) => ({ domain, version: i64(version) })),
    graph: encodeGraph(model.graph, sink),
  };
  if (model.producerName) msg.producer_name = model.producerName;
  if (model.producerVersion) msg.producer_version = model.producerVersion;
  if (model.domain) msg.domain = model.domain;
  if (model.modelVersion !== undefined) msg.model_version = i64(model.modelVersion);
  set(msg, 'doc_string', model.docString);
  set(msg, 'metadata_props', stringMap(model.metadataProps));
  if (model.functions.length) msg.functions = model.functions.map((f) => encodeFunction(f, sink));
  if (model.passthrough.training_info) msg.training_info = model.passthrough.training_info as unknown[];
  if (model.passthrough.configuration) msg.configuration = model.passthrough.configuration as unknown[];
  return msg;
}

/** Where the encoded bytes go: a Buffer of exactly `length` bytes (protobufjs writes strings with Buffer methods). */
export type EncodeAlloc = (length: number) => Buffer;

/**
 * Encodes the model with all tensors inline, or through `sink` for external data; `alloc` supplies
 * the output buffer (by default fresh memory).
 */
export function encodeModel(model: Model, sink?: TensorSink, alloc?: EncodeAlloc): Uint8Array {
  const writer = onnxTypes().ModelProto.encode(modelMessage(model, sink) as never);
  if (!alloc) return writer.finish();
  // protobufjs's finish() asks the writer's class for the buffer; lend it ours for this one call.
  const writerClass = writer.constructor as unknown as { alloc: EncodeAlloc };
  const own = writerClass.alloc;
  writerClass.alloc = alloc;
  try {
    return writer.finish();
  } finally {
    writerClass.alloc = own;
  }
}
