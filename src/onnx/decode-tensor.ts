/** TensorProto / SparseTensorProto / TypeProto messages -> IR. */
import { DataType, dataTypeName } from '../ir/data-type.js';
import { Tensor, type ExternalLocation, type StringMap, type TypedArray } from '../ir/tensor.js';
import type { SparseTensor } from '../ir/attribute.js';
import type { Dim, TypeInfo } from '../ir/types.js';
import { InvalidModelError } from '../errors.js';
import type { Long, SparseTensorMsg, StringStringEntryMsg, TensorMsg, TypeMsg } from './schema.js';
import { externalDataPath } from './external-data-path.js';
import { checkByteLength, checkTypedEntries, elementCount, expectedBytes, externalInteger, type TensorHeader } from './tensor-size.js';

type TypedField = 'float_data' | 'double_data' | 'int32_data' | 'int64_data' | 'uint64_data';

/** The repeated field each data type stores its values in when raw_data is not used (onnx.proto). */
const FIELD_OF: Partial<Record<DataType, TypedField>> = {
  [DataType.FLOAT]: 'float_data', [DataType.COMPLEX64]: 'float_data',
  [DataType.DOUBLE]: 'double_data', [DataType.COMPLEX128]: 'double_data',
  [DataType.INT64]: 'int64_data',
  [DataType.UINT32]: 'uint64_data', [DataType.UINT64]: 'uint64_data',
  [DataType.INT32]: 'int32_data', [DataType.INT16]: 'int32_data', [DataType.INT8]: 'int32_data',
  [DataType.UINT16]: 'int32_data', [DataType.UINT8]: 'int32_data', [DataType.BOOL]: 'int32_data',
  [DataType.FLOAT16]: 'int32_data', [DataType.BFLOAT16]: 'int32_data',
  [DataType.FLOAT8E4M3FN]: 'int32_data', [DataType.FLOAT8E4M3FNUZ]: 'int32_data', [DataType.FLOAT8E5M2]: 'int32_data',
  [DataType.FLOAT8E5M2FNUZ]: 'int32_data', [DataType.FLOAT8E8M0]: 'int32_data',
  [DataType.INT4]: 'int32_data', [DataType.UINT4]: 'int32_data', [DataType.FLOAT4E2M1]: 'int32_data',
};

export interface DecodeContext {
  /** Directory external data paths are relative to (undefined when decoding bytes without a path). */
  baseDir?: string;
  /** For messages. */
  source: string;
}

export function has(msg: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, field);
}

/** int64 (Long or number) -> number. Values beyond 2^53 lose precision; INT64_MAX stays >= 2^63. */
export function num(v: Long | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  return (v as unknown as { toNumber(): number }).toNumber();
}

function longToBigInt(v: Long): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
}

export function decodeStringMap(entries: StringStringEntryMsg[] | undefined): StringMap | undefined {
  if (!entries || entries.length === 0) return undefined;
  return entries.map((e) => [e.key ?? '', e.value ?? '']);
}

export function decodeTensor(msg: TensorMsg, ctx: DecodeContext): Tensor {
  const dims = (msg.dims ?? []).map(num);
  const type = (msg.data_type ?? 0) as DataType;
  const name = msg.name ?? '';
  const header: TensorHeader = { name, type, dims, source: ctx.source };
  const count = elementCount(header);
  // Chunked tensors (segment) store part of the data; slimnet keeps them as they are.
  const whole = !msg.segment;
  let t: Tensor;
  if (type === DataType.STRING && (has(msg, 'raw_data') || msg.data_location === 1)) {
    throw new InvalidModelError(`${ctx.source}: tensor '${name}' is a string tensor with raw or external data; strings are stored in string_data`);
  }
  if (msg.data_location === 1 || (msg.external_data && msg.external_data.length > 0 && !has(msg, 'raw_data'))) {
    t = Tensor.external(type, dims, externalLocation(msg, header, count, ctx), name);
  } else if (has(msg, 'raw_data')) {
    if (whole) checkByteLength(header, count, msg.raw_data!.length, 'raw_data');
    t = Tensor.fromRaw(type, dims, msg.raw_data!, name);
  } else if (type === DataType.STRING) {
    if (whole) checkTypedEntries(header, count, 'string_data', msg.string_data?.length ?? 0);
    t = Tensor.fromStrings(dims, msg.string_data ?? [], name);
  } else {
    t = Tensor.fromTyped(type, dims, typedFieldData(msg, header, count, whole), name);
  }
  if (has(msg, 'doc_string')) t.docString = msg.doc_string;
  const meta = decodeStringMap(msg.metadata_props);
  if (meta) t.metadataProps = meta;
  if (msg.segment) t.segment = { begin: num(msg.segment.begin), end: num(msg.segment.end) };
  return t;
}

function externalLocation(msg: TensorMsg, header: TensorHeader, count: number, ctx: DecodeContext): ExternalLocation {
  const kv = new Map((msg.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new InvalidModelError(`${ctx.source}: tensor '${msg.name}' is marked external but has no 'location'`);
  if (ctx.baseDir === undefined) {
    throw new InvalidModelError(
      `${ctx.source}: tensor '${msg.name}' keeps its data in the external file '${location}', but the model was given as bytes; load it from its path (or pass baseDir)`,
    );
  }
  const path = externalDataPath(ctx.baseDir, location, header.name, ctx.source);
  const offset = externalInteger(header, 'offset', kv.get('offset'), 0);
  // Without an explicit length, the data runs for exactly the tensor's size.
  const length = externalInteger(header, 'length', kv.get('length'), expectedBytes(header, count));
  if (!msg.segment) checkByteLength(header, count, length, 'its external data length');
  const loc: ExternalLocation = { path, location, offset, length };
  const checksum = kv.get('checksum');
  if (checksum) loc.checksum = checksum;
  return loc;
}

/** Values stored in the typed repeated fields (float_data, int32_data, int64_data, ...). */
function typedFieldData(msg: TensorMsg, header: TensorHeader, n: number, whole: boolean): TypedArray {
  const type = header.type as DataType;
  // The field each type keeps its values in, checked against the dims before anything is allocated.
  const field = FIELD_OF[type];
  if (!field) {
    throw new InvalidModelError(`${header.source}: tensor '${msg.name}' of type ${dataTypeName(type)} has no raw_data, and that type cannot store its values in typed fields`);
  }
  if (whole) checkTypedEntries(header, n, field, msg[field]?.length ?? 0);
  switch (type) {
    case DataType.FLOAT:
    case DataType.COMPLEX64:
      return Float32Array.from(msg.float_data ?? []);
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return Float64Array.from(msg.double_data ?? []);
    case DataType.INT64:
      return BigInt64Array.from((msg.int64_data ?? []).map(longToBigInt));
    case DataType.UINT32:
      return Uint32Array.from((msg.uint64_data ?? []).map(num));
    case DataType.UINT64:
      return BigUint64Array.from((msg.uint64_data ?? []).map((v) => BigInt.asUintN(64, longToBigInt(v))));
    case DataType.INT32: return Int32Array.from(msg.int32_data ?? []);
    case DataType.INT16: return Int16Array.from(msg.int32_data ?? []);
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return Uint16Array.from(msg.int32_data ?? []);
    case DataType.INT8: return Int8Array.from(msg.int32_data ?? []);
    case DataType.UINT8: case DataType.BOOL:
    case DataType.FLOAT8E4M3FN: case DataType.FLOAT8E4M3FNUZ: case DataType.FLOAT8E5M2: case DataType.FLOAT8E5M2FNUZ: case DataType.FLOAT8E8M0:
      return Uint8Array.from(msg.int32_data ?? []);
    case DataType.INT4: case DataType.UINT4: case DataType.FLOAT4E2M1: {
      // Sub-byte types in int32_data hold packed bytes, two elements per entry.
      const packed = Uint8Array.from(msg.int32_data ?? []);
      const signed = type === DataType.INT4;
      const out = signed ? new Int8Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let v = i & 1 ? packed[i >> 1]! >> 4 : packed[i >> 1]! & 15;
        if (signed && v > 7) v -= 16;
        out[i] = v;
      }
      return out;
    }
    default:
      throw new InvalidModelError(`${header.source}: tensor '${msg.name}': slimnet cannot read ${dataTypeName(type)} values from ${field}`);
  }
}

export function decodeSparseTensor(msg: SparseTensorMsg, ctx: DecodeContext): SparseTensor {
  if (!msg.values || !msg.indices) throw new InvalidModelError(`${ctx.source}: a sparse tensor lacks values or indices`);
  return { values: decodeTensor(msg.values, ctx), indices: decodeTensor(msg.indices, ctx), dims: (msg.dims ?? []).map(num) };
}

function decodeShape(shape: { dim?: { dim_value?: Long; dim_param?: string; denotation?: string }[] } | undefined): { shape?: Dim[]; denotations?: (string | undefined)[] } {
  if (!shape) return {};
  const dims: Dim[] = [];
  const den: (string | undefined)[] = [];
  let anyDen = false;
  for (const d of shape.dim ?? []) {
    if (has(d, 'dim_value')) dims.push(num(d.dim_value));
    else if (has(d, 'dim_param')) dims.push(d.dim_param ?? '');
    else dims.push(null);
    if (has(d, 'denotation')) { den.push(d.denotation); anyDen = true; } else den.push(undefined);
  }
  return anyDen ? { shape: dims, denotations: den } : { shape: dims };
}

export function decodeType(msg: TypeMsg | undefined): TypeInfo | undefined {
  if (!msg) return undefined;
  let t: TypeInfo | undefined;
  const tt = msg.tensor_type ?? msg.sparse_tensor_type;
  if (tt) {
    const { shape, denotations } = decodeShape(has(tt, 'shape') ? tt.shape : undefined);
    t = { kind: msg.tensor_type ? 'tensor' : 'sparse_tensor', elemType: (tt.elem_type ?? 0) as DataType };
    if (shape) t.shape = shape;
    if (denotations) t.dimDenotations = denotations;
  } else if (msg.sequence_type) {
    t = { kind: 'sequence', elem: decodeType(msg.sequence_type.elem_type) };
  } else if (msg.map_type) {
    t = { kind: 'map', keyType: (msg.map_type.key_type ?? 0) as DataType, value: decodeType(msg.map_type.value_type) };
  } else if (msg.optional_type) {
    t = { kind: 'optional', elem: decodeType(msg.optional_type.elem_type) };
  } else if (msg.opaque_type) {
    t = { kind: 'opaque', domain: msg.opaque_type.domain ?? '', name: msg.opaque_type.name ?? '' };
  }
  if (t && has(msg, 'denotation')) t.denotation = msg.denotation;
  return t;
}
