import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/ir/tensor.js';
import { DataType } from '../../src/ir/data-type.js';

describe('Tensor', () => {
  it('views aligned raw data without copying and decodes lazily', () => {
    const f = Float32Array.of(1.5, -2, 3);
    const raw = new Uint8Array(f.buffer);
    const t = Tensor.fromRaw(DataType.FLOAT, [3], raw);
    const d = t.data() as Float32Array;
    expect(Array.from(d)).toEqual([1.5, -2, 3]);
    expect(d.buffer).toBe(f.buffer);
  });

  it('copies unaligned raw data before viewing it', () => {
    const buf = new Uint8Array(13);
    buf.set(new Uint8Array(Float32Array.of(7, 8, 9).buffer), 1);
    const t = Tensor.fromRaw(DataType.FLOAT, [3], buf.subarray(1));
    expect(Array.from(t.data() as Float32Array)).toEqual([7, 8, 9]);
  });

  it('converts every numeric type to float32', () => {
    expect(Array.from(Tensor.fromFloat32(DataType.FLOAT16, [2], [0.5, -4]).toFloat32())).toEqual([0.5, -4]);
    expect(Array.from(Tensor.fromFloat32(DataType.INT8, [2], [-3.4, 5.6]).toFloat32())).toEqual([-3, 6]);
    expect(Array.from(Tensor.int64([2], [9007199254740991, -5]).toFloat32())).toEqual([9007199254740992, -5]);
    const i4 = Tensor.fromTyped(DataType.INT4, [3], Int8Array.of(-8, 7, 1));
    expect(Array.from(i4.bytes())).toEqual([0x78, 0x01]);
    expect(Array.from(Tensor.fromRaw(DataType.INT4, [3], i4.bytes()).toFloat32())).toEqual([-8, 7, 1]);
  });

  it('rejects data that does not match its shape', () => {
    expect(() => Tensor.fromTyped(DataType.FLOAT, [2, 2], new Float32Array(3))).toThrow(/3 values for shape \[2,2\]/);
    const t = Tensor.fromRaw(DataType.FLOAT, [4], new Uint8Array(12), 'w');
    expect(() => t.data()).toThrow(/tensor 'w'.*12 bytes of data, 16 expected/);
  });
});
