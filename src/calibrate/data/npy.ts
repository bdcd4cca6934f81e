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

function typedView(type: OrtType, bytes: Uint8Array, count: number): TypedArray {
  // Copy into a fresh, aligned buffer: npy data follows a header of arbitrary length.
  const copy = new Uint8Array(count * DESCR[descrOf(type)]!.bytes);
  copy.set(bytes.subarray(0, copy.length));
  const buf = copy.buffer;
  switch (type) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'float16': case 'uint16': return new Uint16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': case 'bool': return new Uint8Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'uint32': return new Uint32Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'uint64': return new BigUint64Array(buf);
    default: throw new Error(`no typed array for ${type}`);
  }
}

function descrOf(type: OrtType): string {
  for (const [k, v] of Object.entries(DESCR)) if (v.type === type) return k;
  throw new Error(`no .npy dtype for ${type}`);
}

/** Parses one .npy file. `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source: string): TensorData {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new DataError(`${source}: not a .npy array (bad magic bytes)`);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new DataError(`${source}: unreadable .npy header: ${header.trim()}`);
  const normalized = descr.replace(/^=/, '<').replace(/^\|(?=[fiu][248])/, '<');
  const info = DESCR[normalized] ?? (descr === '|b1' ? DESCR['|b1'] : undefined);
  if (!info) throw new DataError(`${source}: dtype '${descr}' is not supported (use little-endian float16/32/64, int8-64, uint8-64 or bool)`);
  if (fortran === 'True') throw new DataError(`${source}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray(a)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(start + headerLen);
  if (data.length < count * info.bytes) throw new DataError(`${source}: truncated: ${data.length} bytes of data for shape (${dims.join(', ')}) of ${descr}`);
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
