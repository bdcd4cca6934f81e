/**
 * A TensorProto's shape against its data. A file is untrusted: dims can claim 90 billion elements
 * over 9 KB of raw_data, and everything downstream (parameter counts, quantizers, the encoder)
 * would believe them. Every tensor is checked once, when it is decoded: dims are non-negative
 * integers whose product is exact in a double, and the stored bytes or values are exactly what
 * the type and dims need.
 */
import { DataType, dataTypeInfo, dataTypeName } from '../ir/data-type.js';
import { InvalidModelError } from '../errors.js';

/** Largest element count slimnet accepts: exact in a double, and more than any device holds. */
const MAX_ELEMENTS = Number.MAX_SAFE_INTEGER;

export interface TensorHeader {
  name: string;
  type: number;
  dims: number[];
  source: string;
}

function describe(h: TensorHeader): string {
  return `${h.source}: tensor '${h.name}' (${dataTypeName(h.type)} [${h.dims.join(', ')}])`;
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Element count of a decoded shape, after checking each dim. */
export function elementCount(h: TensorHeader): number {
  let n = 1;
  for (const d of h.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InvalidModelError(`${describe(h)} has the dimension ${d}; dimensions of stored tensors are non-negative integers`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new InvalidModelError(`${describe(h)} claims more than 2^53 elements; the file is corrupt or was edited`);
  }
  return n;
}

/** Bytes the tensor's data takes in raw_data or an external file (sub-byte types packed). */
export function expectedBytes(h: TensorHeader, count: number): number {
  const bits = dataTypeInfo(h.type).bits;
  if (bits === 0) throw new InvalidModelError(`${describe(h)} has the unknown data type ${h.type}; re-export the model with a standard ONNX type`);
  return Math.ceil((count * bits) / 8);
}

/** raw_data (or an external file's slice) must hold exactly the tensor's bytes. */
export function checkByteLength(h: TensorHeader, count: number, actual: number, where: string): void {
  const expected = expectedBytes(h, count);
  if (actual !== expected) {
    throw new InvalidModelError(`${describe(h)} needs ${human(expected)} of data (${count} elements) but ${where} holds ${human(actual)}; the file is corrupt or was edited`);
  }
}

/** How many entries a typed field (float_data, int32_data, ...) must have for `count` elements. */
export function typedFieldEntries(type: number, count: number): number {
  switch (type) {
    case DataType.COMPLEX64: case DataType.COMPLEX128: return 2 * count;
    // Sub-byte types pack their elements into int32_data entries, one byte per entry.
    case DataType.INT4: case DataType.UINT4: case DataType.FLOAT4E2M1: return Math.ceil(count / 2);
    case DataType.INT2: case DataType.UINT2: return Math.ceil(count / 4);
    default: return count;
  }
}

export function checkTypedEntries(h: TensorHeader, count: number, field: string, actual: number): void {
  const expected = typedFieldEntries(h.type, count);
  if (actual !== expected) {
    throw new InvalidModelError(`${describe(h)} needs ${expected} values in ${field} but has ${actual}; the file is corrupt or was edited`);
  }
}

/** An int64 text field of external_data (offset, length): a non-negative safe integer. */
export function externalInteger(h: TensorHeader, key: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidModelError(`${describe(h)}: external data ${key} '${text}' is not a non-negative integer`);
  }
  return v;
}
