/**
 * Bit-exact conversions between float32 and the narrow float formats ONNX stores
 * (float16, bfloat16, the float8 family). Hot paths (float16, bfloat16) use typed-array views.
 */
import { DataType } from './data-type.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half bits, round to nearest even, with overflow to +-Inf and subnormals. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // NaN keeps a payload bit
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++; // may carry into the exponent: still correct
  return sign | r;
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let f16Table: Float32Array | undefined;
/** All 65536 half values decoded once: decoding a tensor is then one table lookup per element. */
function float16Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = float16BitsToFloat32(i);
  }
  return f16Table;
}

export function decodeFloat16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const t = float16Table();
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

export function encodeFloat16(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]!);
  return out;
}

/** bfloat16 is the upper half of float32; round to nearest even. */
export function encodeBFloat16(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

export function decodeBFloat16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const view = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) view[i] = bits[i]! << 16;
  return out;
}

interface Float8Format { expBits: number; mantBits: number; bias: number; fnuz: boolean; finiteOnly: boolean }
const FLOAT8: Partial<Record<DataType, Float8Format>> = {
  [DataType.FLOAT8E4M3FN]: { expBits: 4, mantBits: 3, bias: 7, fnuz: false, finiteOnly: true },
  [DataType.FLOAT8E4M3FNUZ]: { expBits: 4, mantBits: 3, bias: 8, fnuz: true, finiteOnly: true },
  [DataType.FLOAT8E5M2]: { expBits: 5, mantBits: 2, bias: 15, fnuz: false, finiteOnly: false },
  [DataType.FLOAT8E5M2FNUZ]: { expBits: 5, mantBits: 2, bias: 16, fnuz: true, finiteOnly: true },
};

function decodeFloat8Byte(b: number, f: Float8Format): number {
  if (f.fnuz && b === 0x80) return NaN; // the single NaN of the FNUZ formats
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >>> f.mantBits) & ((1 << f.expBits) - 1);
  const mant = b & ((1 << f.mantBits) - 1);
  const maxExp = (1 << f.expBits) - 1;
  if (!f.fnuz) {
    if (f.finiteOnly) {
      if (exp === maxExp && mant === (1 << f.mantBits) - 1) return NaN; // E4M3FN: S.1111.111 is NaN
    } else if (exp === maxExp) {
      return mant ? NaN : sign * Infinity; // E5M2 follows IEEE
    }
  }
  if (exp === 0) return sign * mant * 2 ** (1 - f.bias - f.mantBits);
  return sign * (1 + mant / (1 << f.mantBits)) * 2 ** (exp - f.bias);
}

const float8Tables = new Map<DataType, Float32Array>();
function float8Table(type: DataType): Float32Array {
  let t = float8Tables.get(type);
  if (!t) {
    const f = FLOAT8[type];
    if (!f) throw new Error(`not a float8 type: ${type}`);
    t = new Float32Array(256);
    for (let i = 0; i < 256; i++) t[i] = decodeFloat8Byte(i, f);
    float8Tables.set(type, t);
  }
  return t;
}

export function isFloat8(type: DataType): boolean {
  return FLOAT8[type] !== undefined;
}

export function decodeFloat8(type: DataType, bytes: Uint8Array, out = new Float32Array(bytes.length)): Float32Array {
  const t = float8Table(type);
  for (let i = 0; i < bytes.length; i++) out[i] = t[bytes[i]!]!;
  return out;
}

/**
 * float32 -> float8 with saturation to the largest finite value (ONNX's default `saturate=1`).
 * Picks the nearest representable value from the 256-entry table (ties to the even code):
 * float8 weights are rare enough that simplicity beats speed here.
 */
export function encodeFloat8(type: DataType, values: ArrayLike<number>, out = new Uint8Array(values.length)): Uint8Array {
  const t = float8Table(type);
  const finite: { code: number; value: number }[] = [];
  for (let c = 0; c < 256; c++) if (Number.isFinite(t[c]!)) finite.push({ code: c, value: t[c]! });
  finite.sort((a, b) => a.value - b.value || a.code - b.code);
  const nanCode = t.findIndex((v) => Number.isNaN(v));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) { out[i] = nanCode; continue; }
    let lo = 0;
    let hi = finite.length - 1;
    if (v <= finite[lo]!.value) { out[i] = finite[lo]!.code; continue; }
    if (v >= finite[hi]!.value) { out[i] = finite[hi]!.code; continue; }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (finite[mid]!.value <= v) lo = mid; else hi = mid;
    }
    const a = finite[lo]!;
    const b = finite[hi]!;
    const da = v - a.value;
    const db = b.value - v;
    out[i] = da < db ? a.code : db < da ? b.code : (a.code & 1) === 0 ? a.code : b.code;
  }
  return out;
}
