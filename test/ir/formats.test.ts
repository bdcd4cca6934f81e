import { describe, expect, it } from 'vitest';
import { decodeFloat16, encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits, encodeBFloat16, decodeBFloat16, decodeFloat8, encodeFloat8 } from '../../src/ir/float-formats.js';
import { packInt4, unpackInt4, packInt2, unpackInt2 } from '../../src/ir/packed-ints.js';
import { DataType } from '../../src/ir/data-type.js';

describe('float16', () => {
  it('encodes known values bit-exactly', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to +Inf
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000); // underflows
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
  });

  it('rounds to nearest even', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('round-trips every half value', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const back = encodeFloat16(decodeFloat16(bits));
    for (let i = 0; i < 65536; i++) {
      const exp = (i >> 10) & 0x1f;
      if (exp === 0x1f && (i & 0x3ff)) continue; // NaN payloads are not preserved
      expect(back[i]).toBe(i);
    }
  });
});

describe('bfloat16 and float8', () => {
  it('bfloat16 keeps the upper half with rounding', () => {
    const v = Float32Array.of(1, -3.5, 1.00390625, 3.0e38);
    const back = decodeBFloat16(encodeBFloat16(v));
    expect(Array.from(back.slice(0, 2))).toEqual([1, -3.5]);
    expect(back[2]).toBe(1); // 1 + 2^-8 ties to even
    expect(Math.abs(back[3]! - 3e38) / 3e38).toBeLessThan(0.01);
  });

  it('float8 e4m3fn decodes its extremes and saturates on encode', () => {
    const t = decodeFloat8(DataType.FLOAT8E4M3FN, Uint8Array.of(0x7e, 0x7f, 0x01, 0x38));
    expect(t[0]).toBe(448);
    expect(Number.isNaN(t[1]!)).toBe(true);
    expect(t[2]).toBe(2 ** -9);
    expect(t[3]).toBe(1);
    expect(Array.from(encodeFloat8(DataType.FLOAT8E4M3FN, [1000, -1000, 1]))).toEqual([0x7e, 0xfe, 0x38]);
  });

  it('float8 e5m2 has infinities', () => {
    const t = decodeFloat8(DataType.FLOAT8E5M2, Uint8Array.of(0x7c, 0x7b));
    expect(t[0]).toBe(Infinity);
    expect(t[1]).toBe(57344);
  });
});

describe('sub-byte integers', () => {
  it('packs int4 low nibble first and sign-extends', () => {
    const packed = packInt4([1, -2, 7, -8, 3]);
    expect(Array.from(packed)).toEqual([0xe1, 0x87, 0x03]);
    expect(Array.from(unpackInt4(packed, 5, true))).toEqual([1, -2, 7, -8, 3]);
    expect(Array.from(unpackInt4(packInt4([15, 0, 9]), 3, false))).toEqual([15, 0, 9]);
  });

  it('packs int2', () => {
    const vals = [1, -2, 0, -1, 1];
    expect(Array.from(unpackInt2(packInt2(vals), 5, true))).toEqual(vals);
  });
});
