/** NumPy .npy arrays (format versions 1-3, little-endian, C order) <-> runtime tensors. */
import { DataError } from '../../errors.js';
import type { OrtType, TensorData } from '../../runtime/types.js';
import type { TypedArray } from '../../ir/tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { type: OrtType; bytes: number }> = {
  '<f4': { type: 'float32', bytes: 4 }, '<f8': { type: 'float64', bytes: 8 }, '<f2': { type: 'float16', bytes: 2 },
  '|i1': { type: 'int8', bytes: 1 }, '|u1': { type: 'uint8', bytes: 1 }, '<i2': { type: 'int16', bytes: 2 }, '<u2': { type: 'uint16', bytes: 2 },
  '<i4': { type: 'int32', bytes: 4 }, '<u4': { type: 'uint32', bytes: 4 }, '<i8': { type: 'int64', bytes: 8 }, '<u8': { type: 'uint64', bytes: 8 },
  '|b1': { type: 'bool', bytes: 1 },
};

const VIEW: Partial<Record<OrtType, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TypedArray>> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
  bool: Uint8Array, int16: Int16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};

/**
 * The data as a typed array: a view when it is aligned (NumPy pads headers so that it usually is),
 * else a copy into a fresh buffer, never both (data can be a gigabyte).
 */
function typedView(type: OrtType, bytes: Uint8Array, count: number): TypedArray {
  const Ctor = VIEW[type];
  if (!Ctor) throw new Error(`no typed array for ${type}`);
  const size = DESCR[descrOf(type)]!.bytes;
  if (bytes.byteOffset % size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(0, copy.length));
  return new Ctor(copy.buffer, 0, count);
}

function descrOf(type: OrtType): string {
  for (const [k, v] of Object.entries(DESCR)) if (v.type === type) return k;
  throw new Error(`no .npy dtype for ${type}`);
}

/** Parses one .npy file. `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source: string): TensorData {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new DataError(`${source}: not a .npy array (bad magic bytes)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new DataError(`${source}: .npy format version ${major} is not supported (1 to 3 are)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new DataError(`${source}: truncated .npy header`);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (start + headerLen > bytes.length) throw new DataError(`${source}: truncated: the .npy header says it is ${headerLen} bytes long, the file ends before`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new DataError(`${source}: unreadable .npy header: ${header.trim()}`);
  const normalized = descr.replace(/^=/, '<').replace(/^\|(?=[fiu][248])/, '<');
  const info = DESCR[normalized] ?? (descr === '|b1' ? DESCR['|b1'] : undefined);
  if (!info) throw new DataError(`${source}: dtype '${descr}' is not supported (use little-endian float16/32/64, int8-64, uint8-64 or bool)`);
  if (fortran === 'True') throw new DataError(`${source}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray(a)`);
  const parts = shapeText.split(',').map((s) => s.trim()).filter(Boolean);
  const dims = parts.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new DataError(`${source}: unreadable .npy shape (${shapeText}); dimensions must be non-negative integers`);
  // The header is a claim; the bytes that follow are the truth. Checked before anything is allocated.
  let count = 1;
  for (const d of dims) count *= d;
  const needed = count * info.bytes;
  const data = bytes.subarray(start + headerLen);
  if (data.length < needed) throw new DataError(`${source}: truncated: the header says shape (${dims.join(', ')}) of ${descr}, ${needed} bytes, but the file holds ${data.length} bytes of data`);
  if (data.length > needed) throw new DataError(`${source}: corrupt: the header says shape (${dims.join(', ')}) of ${descr}, ${needed} bytes, but the file holds ${data.length} bytes of data`);
  return { type: info.type, dims, data: typedView(info.type, data, count) };
}

/** Serializes a tensor as .npy (version 1.0). */
export function encodeNpy(t: TensorData): Uint8Array {
  if (Array.isArray(t.data)) throw new Error('string tensors cannot be written as .npy');
  const descr = descrOf(t.type);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}
