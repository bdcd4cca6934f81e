/** Conversions between IR data types, typed arrays and the runtime's TensorData. */
import { DataType, dataTypeName } from '../ir/data-type.js';
import { Tensor, type TypedArray } from '../ir/tensor.js';
import type { OrtType, TensorData } from './types.js';

const TO_ORT: Partial<Record<DataType, OrtType>> = {
  [DataType.FLOAT]: 'float32', [DataType.FLOAT16]: 'float16', [DataType.DOUBLE]: 'float64',
  [DataType.INT8]: 'int8', [DataType.UINT8]: 'uint8', [DataType.INT16]: 'int16', [DataType.UINT16]: 'uint16',
  [DataType.INT32]: 'int32', [DataType.UINT32]: 'uint32', [DataType.INT64]: 'int64', [DataType.UINT64]: 'uint64',
  [DataType.BOOL]: 'bool', [DataType.STRING]: 'string', [DataType.INT4]: 'int4', [DataType.UINT4]: 'uint4',
};

export function ortType(type: DataType): OrtType {
  const t = TO_ORT[type];
  if (!t) throw new Error(`ONNX Runtime's JS API has no tensor type for ${dataTypeName(type)}`);
  return t;
}

export function dataTypeOfOrt(type: string): DataType {
  for (const [k, v] of Object.entries(TO_ORT)) if (v === type) return Number(k) as DataType;
  throw new Error(`unknown tensor type '${type}'`);
}

export function tensorData(type: OrtType, dims: number[], data: TypedArray | string[]): TensorData {
  return { type, dims, data };
}

export function floatTensor(dims: number[], data: Float32Array): TensorData {
  return { type: 'float32', dims, data };
}

/** An IR tensor (initializer, Constant) as runtime data. */
export function fromIrTensor(t: Tensor): TensorData {
  if (t.dataType === DataType.BOOL) return { type: 'bool', dims: [...t.dims], data: t.data() as Uint8Array };
  return { type: ortType(t.dataType), dims: [...t.dims], data: t.data() };
}

/** Runtime data as an IR tensor. */
export function toIrTensor(d: TensorData, name = ''): Tensor {
  if (d.type === 'string') return Tensor.fromStrings(d.dims, (d.data as string[]).map((s) => new TextEncoder().encode(s)), name);
  return Tensor.fromTyped(dataTypeOfOrt(d.type), d.dims, d.data as TypedArray, name);
}

/** Values of a float tensor as float32 (float16 decoded, float64 narrowed). */
export function asFloat32(d: TensorData): Float32Array {
  if (d.data instanceof Float32Array) return d.data;
  return toIrTensor(d).toFloat32();
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
