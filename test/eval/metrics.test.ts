/** Metric arithmetic against values worked out by hand (the working is in the comments). */
import { describe, expect, it } from 'vitest';
import { OutputComparator, argmax, sqnrDb } from '../../src/eval/compare.js';
import { classLabels, inferTask, taskMetrics, topK } from '../../src/eval/task-metrics.js';
import { metricDrop, sampleMetric, type MetricBatch } from '../../src/eval/metric.js';
import { dequantize, representableRange, type QuantParams } from '../../src/eval/qdq-structure.js';
import { weightError } from '../../src/eval/layer-stats.js';
import { Tensor } from '../../src/ir/tensor.js';
import { DataType } from '../../src/ir/data-type.js';
import type { TensorData } from '../../src/runtime/types.js';

const f32 = (dims: number[], v: number[]): TensorData => ({ type: 'float32', dims, data: Float32Array.from(v) });
const batch = (labels?: TensorData, count = 3): MetricBatch => ({ labels, feeds: {}, count, first: 0 });

describe('reference-vs-candidate comparison', () => {
  it('matches hand-computed MSE, SQNR, max error, cosine and agreement', () => {
    const c = new OutputComparator('y');
    // ref [[1,2,3],[4,0,0]], cand [[1,2,2],[3,1,0]]; errors [0,0,-1,-1,1,0]
    c.add(f32([2, 3], [1, 2, 3, 4, 0, 0]), f32([2, 3], [1, 2, 2, 3, 1, 0]));
    const r = c.result();
    expect(r.elements).toBe(6);
    expect(r.mse).toBeCloseTo(3 / 6, 12); // Σe² = 3
    expect(r.sqnrDb).toBeCloseTo(10, 10); // 10·log10(Σr²/Σe²) = 10·log10(30/3)
    expect(r.maxAbsError).toBe(1);
    // sample 1: 11/√(14·9) = 0.979958; sample 2: 12/√(16·10) = 0.948683
    expect(r.cosine).toBeCloseTo(0.9643205925, 9);
    expect(r.cosineMin).toBeCloseTo(0.9486832981, 9);
    // argmax row 1: ref 2, cand 1 (first of the tied maxima); row 2: both 0
    expect(r.agreement).toBe(0.5);
  });

  it('accumulates over batches exactly as over one batch', () => {
    const one = new OutputComparator('y');
    one.add(f32([2, 3], [1, 2, 3, 4, 0, 0]), f32([2, 3], [1, 2, 2, 3, 1, 0]));
    const two = new OutputComparator('y');
    two.add(f32([1, 3], [1, 2, 3]), f32([1, 3], [1, 2, 2]));
    two.add(f32([1, 3], [4, 0, 0]), f32([1, 3], [3, 1, 0]));
    expect(two.result()).toEqual(one.result());
  });

  it('reports identical outputs as infinite SQNR, and zero vectors as cosine 1', () => {
    const c = new OutputComparator('y');
    c.add(f32([1, 2], [0, 0]), f32([1, 2], [0, 0]));
    expect(c.result().sqnrDb).toBe(Infinity);
    expect(c.result().cosine).toBe(1);
    expect(sqnrDb(0, 1)).toBe(-Infinity);
  });

  it('lets a NaN in the candidate show as infinite error, counted', () => {
    const c = new OutputComparator('y');
    c.add(f32([1, 3], [1, 2, 3]), f32([1, 3], [1, NaN, 3]));
    const r = c.result();
    expect(r.maxAbsError).toBe(Infinity);
    expect(r.mse).toBe(Infinity);
    expect(r.sqnrDb).toBe(-Infinity);
    expect(r.candidateNonFinite).toBe(1);
  });

  it('leaves out, and counts, what the reference itself gives as NaN or infinity', () => {
    const c = new OutputComparator('y');
    // ref [1, NaN, 3, -inf], cand [1, 5, 2, -inf]: compared on elements 0 and 2 only, error [0, -1]
    c.add(f32([1, 4], [1, NaN, 3, -Infinity]), f32([1, 4], [1, 5, 2, -Infinity]));
    const r = c.result();
    expect(r.referenceNonFinite).toBe(2);
    expect(r.candidateNonFinite).toBe(0);
    expect(r.mse).toBeCloseTo(1 / 2, 12);
    expect(r.maxAbsError).toBe(1);
    expect(r.sqnrDb).toBeCloseTo(10 * Math.log10(10 / 1), 10);
    expect(r.cosine).toBeCloseTo(7 / Math.sqrt(10 * 5), 12);
  });

  it('gives no number when nothing is left to compare, rather than "identical"', () => {
    const c = new OutputComparator('y');
    c.add(f32([1, 2], [NaN, Infinity]), f32([1, 2], [1, 2]));
    const r = c.result();
    expect(r.referenceNonFinite).toBe(2);
    for (const x of [r.sqnrDb, r.mse, r.maxAbsError, r.cosine, r.cosineMin]) expect(x).toBeNaN();
  });

  it('compares integer outputs element by element and skips agreement for one-value rows', () => {
    const ints = new OutputComparator('ids');
    ints.add({ type: 'int64', dims: [4], data: BigInt64Array.from([1n, 2n, 3n, 4n]) }, { type: 'int64', dims: [4], data: BigInt64Array.from([1n, 2n, 0n, 4n]) });
    expect(ints.result().agreement).toBe(0.75);
    const scalar = new OutputComparator('p');
    scalar.add(f32([2, 1], [0.2, 0.9]), f32([2, 1], [0.3, 0.8]));
    expect(scalar.result().agreement).toBeNull();
    expect(argmax([3, 5, 5, 1], 0, 4)).toBe(1);
  });

  it('rejects outputs of different shapes, naming the output', () => {
    const c = new OutputComparator('logits');
    expect(() => c.add(f32([1, 3], [1, 2, 3]), f32([3, 1], [1, 2, 3]))).toThrow(/output 'logits'.*\[1,3\].*\[3,1\]/);
  });
});

describe('task metrics', () => {
  // logits [[0.1,0.5,0.4],[2,1,3],[1,1,0]], labels [1,0,1]
  // s1: label 1 is the max -> top1 hit; s2: label 0 (2) is beaten by 3 -> rank 1; s3: label 1 ties with
  // class 0, which comes first -> rank 1. top1 = 1/3, top2 = 3/3.
  const logits = f32([3, 3], [0.1, 0.5, 0.4, 2, 1, 3, 1, 1, 0]);
  const labels: TensorData = { type: 'int64', dims: [3], data: BigInt64Array.from([1n, 0n, 1n]) };

  it('computes top-k with ties broken like argmax', () => {
    for (const [k, expected] of [[1, 1 / 3], [2, 1], [3, 1]] as const) {
      const acc = topK(k, 'logits').create();
      acc.update({ logits }, batch(labels));
      expect(acc.result()).toBeCloseTo(expected, 12);
    }
  });

  it('counts a NaN score for the label as a miss at every k (it would outrank nothing)', () => {
    // s1: the label's score is NaN -> miss; s2: another class is NaN, label 0 (2) beaten by 3 only -> rank 1
    const nan = f32([2, 3], [0.1, NaN, 0.4, 2, NaN, 3]);
    const two: TensorData = { type: 'int64', dims: [2], data: BigInt64Array.from([1n, 0n]) };
    for (const [k, expected] of [[1, 0], [2, 1 / 2], [3, 1 / 2]] as const) {
      const acc = topK(k, 'logits').create();
      acc.update({ logits: nan }, batch(two, 2));
      expect(acc.result()).toBeCloseTo(expected, 12);
    }
  });

  it('reads one-hot labels and rejects labels out of range', () => {
    expect(Array.from(classLabels(f32([2, 3], [0, 0, 1, 1, 0, 0]), 2, 3, 'l'))).toEqual([2, 0]);
    expect(() => classLabels(f32([2], [0, 7]), 2, 3, 'data.npz')).toThrow(/data.npz: label 7 of sample 1 is not a class index in \[0, 3\)/);
  });

  it('computes RMSE and MAE for regression', () => {
    // out [1,2,4], labels [1,3,2]: errors 0,-1,2 -> MAE 1, RMSE √(5/3)
    const [rmse, mae] = taskMetrics('regression', 'y', undefined);
    const out = { y: f32([3, 1], [1, 2, 4]) };
    const l = f32([3, 1], [1, 3, 2]);
    const a = rmse!.create(); a.update(out, batch(l));
    const b = mae!.create(); b.update(out, batch(l));
    expect(a.result()).toBeCloseTo(1.2909944487, 9);
    expect(b.result()).toBe(1);
  });

  it('reports drops in points for accuracies and in units otherwise, positive = worse', () => {
    const acc = metricDrop({ fraction: true }, 0.938, 0.933);
    expect(acc.drop).toBeCloseTo(0.5, 9);
    expect(acc.relative).toBeCloseTo(0.5330490405, 8); // 0.005 / 0.938 · 100
    const err = metricDrop({ higherIsBetter: false }, 1.0, 1.2);
    expect(err.drop).toBeCloseTo(0.2, 12);
    expect(err.relative).toBeCloseTo(20, 9);
    expect(metricDrop({ fraction: true }, 0.9, 0.95).drop).toBeCloseTo(-5, 9);
  });

  it('averages a per-sample user metric over samples, and a per-batch mean by sample count', () => {
    const m = sampleMetric('s', (_o, b) => (b.first === 0 ? [1, 0, 1] : 0.5));
    const a = m.create();
    a.update({}, batch(undefined, 3));
    a.update({}, { ...batch(undefined, 1), first: 3 });
    expect(a.result()).toBeCloseTo((1 + 0 + 1 + 0.5) / 4, 12);
  });

  it('infers the task from the output and the labels', () => {
    const ints: TensorData = { type: 'int64', dims: [4], data: new BigInt64Array(4) };
    const logits = f32([4, 10], new Array(40).fill(0));
    expect(inferTask(logits, 4, ints)).toBe('classification');
    expect(inferTask(logits, 4, f32([4, 10], Array.from({ length: 40 }, (_, i) => (i % 10 === 3 ? 1 : 0))))).toBe('classification');
    expect(inferTask(f32([4, 1], [0, 0, 0, 0]), 4, f32([4, 1], [0.5, 1.5, 2, 3]))).toBe('regression');
    expect(inferTask(logits, 4, f32([4, 10], Array.from({ length: 40 }, () => 0.7)))).toBe('regression');
    expect(inferTask(logits, 4, undefined)).toBe('generic');
    // One unbatched sample (a model without a batch axis): output [10], label [1].
    expect(inferTask(f32([10], new Array(10).fill(0)), 1, { type: 'int64', dims: [1], data: new BigInt64Array(1) })).toBe('classification');
  });
});

describe('quantization arithmetic', () => {
  const p = (scale: number[], zp: number[], axis?: number, type = 'int8', qmin = -128, qmax = 127): QuantParams => ({ type, qmin, qmax, scale: Float32Array.from(scale), zeroPoint: Float64Array.from(zp), ...(axis === undefined ? {} : { axis }) });

  it('dequantizes per tensor and per channel', () => {
    // q [[1,2],[3,4]]; axis 0: rows ·0.5 (zp 0) and ·2 (zp 1) -> [[0.5,1],[4,6]]
    expect(Array.from(dequantize([1, 2, 3, 4], [2, 2], p([0.5, 2], [0, 1], 0)))).toEqual([0.5, 1, 4, 6]);
    // axis 1: columns -> [[0.5,2],[1.5,6]]
    expect(Array.from(dequantize([1, 2, 3, 4], [2, 2], p([0.5, 2], [0, 1], 1)))).toEqual([0.5, 2, 1.5, 6]);
    expect(Array.from(dequantize([10, 20], [2], p([0.25], [10])))).toEqual([0, 2.5]);
  });

  it('gives the float range a quantizer covers', () => {
    // uint8, scale 0.1, zp 10: [(0-10)·0.1, (255-10)·0.1] = [-1, 24.5]
    const r = representableRange(p([0.1], [10], undefined, 'uint8', 0, 255));
    expect(r.min).toBeCloseTo(-1, 6);
    expect(r.max).toBeCloseTo(24.5, 5);
  });

  it('measures weight error exactly against floats, or estimates it as step²/12', () => {
    const q = Tensor.fromTyped(DataType.INT8, [4], Int8Array.from([-127, 0, 127, 64]));
    // dequantized [-1.27, 0, 1.27, 0.64]: signal 3.6354; estimated noise 4·0.01²/12
    const est = weightError(q, p([0.01], [0]));
    expect(est.exact).toBe(false);
    expect(est.sqnrDb).toBeCloseTo(50.3767346, 4);
    // floats [-1.2712, 0.003, 1.27, 0.6381]: noise 1.405e-5, signal 3.63603
    const exact = weightError(q, p([0.01], [0]), Float32Array.from([-1.2712, 0.003, 1.27, 0.6381]));
    expect(exact.exact).toBe(true);
    expect(exact.sqnrDb).toBeCloseTo(54.1295114, 3);
    expect(exact.min).toBeCloseTo(-1.2712, 6);
  });
});
