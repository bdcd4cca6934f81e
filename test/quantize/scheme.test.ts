/** Quantization arithmetic: parameters, rounding, weights and int32 biases. */
import { describe, expect, it } from 'vitest';
import { computeParams, quantizeValue, quantRange, representableRange, roundHalfEven } from '../../src/quantize/scheme.js';
import { biasScales, channelAbsMax, quantizeBias, quantizeWeight, raiseScalesForBias, symmetricWeightScales } from '../../src/quantize/weights.js';
import { Tensor } from '../../src/ir/tensor.js';
import { DataType } from '../../src/ir/data-type.js';

describe('scale and zero point', () => {
  it('uint8 asymmetric covers the range and includes zero', () => {
    const p = computeParams({ min: -1, max: 3 }, 'uint8');
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64); // round(0 - (-1)/scale) = round(63.75)
    const r = representableRange(p);
    expect(r.min).toBeCloseTo(-1, 2);
    expect(r.max).toBeCloseTo(3, 2);
    // A range that excludes zero is widened to include it.
    expect(computeParams({ min: 2, max: 4 }, 'uint8').zeroPoint).toBe(0);
  });

  it('int8 symmetric uses [-127, 127] and zero point 0; reduce-range keeps 7 bits', () => {
    expect(quantRange('int8', { symmetric: true })).toEqual([-127, 127]);
    expect(quantRange('int8', { reduceRange: true })).toEqual([-64, 64]);
    const p = computeParams({ min: -0.5, max: 2 }, 'int8', { symmetric: true });
    expect(p.zeroPoint).toBe(0);
    expect(p.scale).toBe(Math.fround(4 / 254));
    expect(computeParams({ min: -1, max: 1 }, 'uint16').scale).toBe(Math.fround(2 / 65535));
  });

  it('a zero or non-finite range is handled explicitly', () => {
    expect(computeParams({ min: 0, max: 0 }, 'uint8')).toEqual({ type: 'uint8', scale: 1, zeroPoint: 0 });
    expect(() => computeParams({ min: -Infinity, max: 1 }, 'uint8')).toThrow(/not finite/);
  });

  it('rounds half to even and saturates like QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2]);
    expect(quantizeValue(1000, 0.1, 0, 0, 255)).toBe(255);
    expect(quantizeValue(-3, 0.1, 10, 0, 255)).toBe(0);
    expect(quantizeValue(0.25, 0.1, 10, 0, 255)).toBe(12); // 2.5 -> 2, + 10
  });
});

describe('weights and biases', () => {
  const w = Tensor.float([2, 3], [0.5, -1, 0.25, 0.01, 0.02, -0.04]);

  it('per-channel symmetric int8 weights: one scale per output channel, max maps to 127', () => {
    const abs = channelAbsMax(w.toFloat32(), w.dims, 0);
    expect(Array.from(abs)).toEqual([1, Math.fround(0.04)]);
    const ws = symmetricWeightScales(abs, 'int8', false);
    expect(ws.scales[0]).toBe(Math.fround(2 / 254));
    const q = quantizeWeight(w, 0, ws, 'int8');
    expect(q.dataType).toBe(DataType.INT8);
    // 0.02 / (0.08/254) is 63.5 in exact arithmetic but 63.4999 in float32, as QuantizeLinear computes it.
    expect(Array.from(q.data() as Int8Array)).toEqual([64, -127, 32, 32, 63, -127]);
    // Along axis 1 (MatMul B [K, N]): one scale per column.
    expect(channelAbsMax(w.toFloat32(), w.dims, 1).length).toBe(3);
  });

  it('uint8 weights are int8 shifted by 128 (zero point 128 everywhere)', () => {
    const ws = symmetricWeightScales(channelAbsMax(w.toFloat32(), w.dims, null), 'uint8', false);
    expect(Array.from(ws.zeroPoints)).toEqual([128]);
    const q = quantizeWeight(w, null, ws, 'uint8');
    expect((q.data() as Uint8Array)[1]).toBe(1);
  });

  it('all-zero channels get scale 1', () => {
    const ws = symmetricWeightScales(Float64Array.from([0, 2]), 'int8', false);
    expect(ws.scales[0]).toBe(1);
  });

  it('bias scale is exactly the float32 product, and oversized biases raise the weight scale', () => {
    const ws = symmetricWeightScales(Float64Array.from([1, 1e-6]), 'int8', false);
    const xs = 1e-4;
    const bias = Float32Array.from([0.5, 1e5]);
    const raised = raiseScalesForBias(ws, bias, xs);
    expect(raised).toEqual([1]);
    const s = biasScales(xs, ws.scales);
    expect(s[0]).toBe(Math.fround(Math.fround(xs) * ws.scales[0]!));
    const { tensor, clipped } = quantizeBias(Tensor.float([2], bias), s);
    expect(clipped).toBe(0);
    expect(Math.abs((tensor.data() as Int32Array)[1]!)).toBeLessThanOrEqual(2 ** 30);
  });
});
