/** Range estimators against straightforward reference implementations on known distributions. */
import { describe, expect, it } from 'vitest';
import { createReducer } from '../../src/calibrate/stats/reducer.js';
import type { HistogramStat, MinMaxStat } from '../../src/calibrate/stats/results.js';
import { entropyRange } from '../../src/calibrate/ranges/entropy.js';
import { mseRange } from '../../src/calibrate/ranges/mse.js';
import { percentileRange } from '../../src/calibrate/ranges/percentile.js';
import { coarsen, foldMagnitudes, searchSpace } from '../../src/calibrate/ranges/search-space.js';
import { estimateRange } from '../../src/calibrate/ranges/estimate.js';
import { quantSteps } from '../../src/calibrate/ranges/target.js';
import type { QuantTarget } from '../../src/calibrate/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const N = 400_000;
const rng = new Rng(11);
const gauss = rng.normals(N);
const laplace = new Float32Array(N).map(() => {
  const u = rng.next() - 0.5;
  return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
});
const relu = gauss.map((v) => Math.max(0, v));

function stats(values: Float32Array, bins = 4096): { minmax: MinMaxStat; histogram: HistogramStat } {
  const m = createReducer({ tensor: 't', kind: 'minmax' });
  const h = createReducer({ tensor: 't', kind: 'histogram', bins });
  // Two batches, so the histogram has to widen once.
  const half = values.length >> 1;
  for (const [part, seen] of [[values.subarray(0, half), 0], [values.subarray(half), 1]] as const) {
    m.update({ values: part, dims: [1, part.length], samples: 1, seen });
    h.update({ values: part, dims: [1, part.length], samples: 1, seen });
  }
  return { minmax: m.result() as MinMaxStat, histogram: h.result() as HistogramStat };
}

const INT8_SYM: QuantTarget = { type: 'int8', symmetric: true };
const UINT8: QuantTarget = { type: 'uint8', symmetric: false };

/**
 * TensorRT's entropy calibration written the plain way (pytorch-quantization's _compute_amax_entropy):
 * for each threshold bin i >= Q, P = bins[:i] with the tail added to bin i-1; Q = bins[:i] merged into
 * Q groups (bin k in group floor(k*Q/i)) and spread over each group's non-empty bins; KL(P||Q).
 */
function referenceEntropy(bins: Float64Array, Q: number): number {
  let best = Infinity;
  let bestI = -1;
  for (let i = Q; i <= bins.length; i++) {
    const P = Array.from(bins.subarray(0, i));
    for (let k = i; k < bins.length; k++) P[i - 1]! += bins[k]!;
    const total = new Float64Array(Q);
    const nonzero = new Float64Array(Q);
    for (let k = 0; k < i; k++) {
      const g = Math.floor((k * Q) / i);
      total[g]! += bins[k]!;
      if (bins[k]! > 0) nonzero[g]!++;
    }
    const q = P.map((_, k) => (bins[k]! > 0 ? total[Math.floor((k * Q) / i)]! / nonzero[Math.floor((k * Q) / i)]! : 0));
    const sp = P.reduce((a, b) => a + b, 0);
    const sq = q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let k = 0; k < i; k++) {
      if (P[k]! === 0) continue;
      kl += q[k]! === 0 ? Infinity : (P[k]! / sp) * Math.log(P[k]! / sp / (q[k]! / sq));
    }
    if (kl < best) { best = kl; bestI = i; }
  }
  return bestI;
}

/** Expected squared error of clipping a density to [-t, t] (or [0, t]) with `steps` steps, integrated numerically. */
function analyticMse(pdf: (x: number) => number, bound: number, steps: (t: number) => number, oneSided: boolean): number {
  const dx = 2e-3;
  let best = Infinity;
  let bestT = 0;
  for (let t = 1; t < bound; t += 0.01) {
    const s = steps(t);
    let err = 0;
    for (let x = oneSided ? dx / 2 : -bound + dx / 2; x < bound; x += dx) {
      const a = Math.abs(x);
      err += pdf(x) * dx * (a > t ? (a - t) ** 2 : (s * s) / 12);
    }
    if (err < best) { best = err; bestT = t; }
  }
  return bestT;
}

/** The same error measured on the samples themselves (exact zeros cost nothing), minimized over t. */
function empiricalMse(values: Float32Array, from: number, to: number, steps: (t: number) => number): number {
  let best = Infinity;
  let bestT = 0;
  for (let t = from; t < to; t += 0.01) {
    const s = steps(t);
    let err = 0;
    for (const v of values) {
      const a = Math.abs(v);
      if (a === 0) continue;
      err += a > t ? (a - t) ** 2 : (s * s) / 12;
    }
    if (err < best) { best = err; bestT = t; }
  }
  return bestT;
}

const normalPdf = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const laplacePdf = (x: number) => Math.exp(-Math.abs(x)) / 2;

describe('entropy (KL) calibration', () => {
  it('picks the same threshold as the plain TensorRT algorithm, symmetric int8 on a Gaussian', () => {
    const { histogram: h } = stats(gauss, 1024);
    const space = searchSpace(h, INT8_SYM);
    const mags = foldMagnitudes(h, 'both');
    mags[0]! -= h.zeros;
    const i = referenceEntropy(mags, 128);
    const got = entropyRange(space, { min: h.min, max: h.max }).range;
    expect(got.max).toBeCloseTo(Math.min(i * h.binWidth, Math.max(-h.min, h.max)), 12);
    expect(got.min).toBe(-got.max);
    // Known behaviour on N(0, 1) at 8 bits: clips a few standard deviations out, well inside the extremes.
    expect(got.max).toBeGreaterThan(3);
    expect(got.max).toBeLessThan(Math.max(-h.min, h.max));
  });

  it('on an exact histogram of the Laplace density, uint8 on the positive side (256 levels)', () => {
    // Expected counts of |Laplace(1)| over [0, 16) in 2048 bins: a known distribution, no sampling noise.
    const w = 16 / 2048;
    const counts = Float64Array.from({ length: 2048 }, (_, k) => 1e7 * (Math.exp(-k * w) - Math.exp(-(k + 1) * w)));
    const h: HistogramStat = { kind: 'histogram', tensor: 't', binWidth: w, offset: 0, counts, min: 0, max: 16, total: 1e7, zeros: 0, nonFinite: 0 };
    const i = referenceEntropy(counts, 256);
    const got = entropyRange(searchSpace(h, UINT8), { min: 0, max: 16 }).range;
    expect(got).toEqual({ min: 0, max: i * w });
    expect(got.max).toBeGreaterThan(6);
    expect(got.max).toBeLessThan(16);
  });

  it('leaves exact zeros out: a ReLU output is not clipped to its first few levels', () => {
    const { minmax, histogram } = stats(relu);
    const r = estimateRange({ minmax, histogram }, { method: 'entropy', target: UINT8 });
    expect(r.min).toBe(0);
    expect(r.max).toBeGreaterThan(2.5);
    // Searched on TensorRT's 2048 bins: the 4096-bin histogram merged in pairs.
    const coarse = coarsen(histogram, 2048);
    expect(coarse.counts.length).toBeLessThanOrEqual(2048);
    expect(coarse.counts.reduce((a, b) => a + b, 0)).toBe(histogram.total);
    const mags = foldMagnitudes(coarse, 'positive');
    mags[0]! -= coarse.zeros;
    expect(r.max).toBeCloseTo(Math.min(referenceEntropy(mags, 256) * coarse.binWidth, histogram.max), 12);
  });
});

describe('MSE calibration', () => {
  const symSteps = (t: number) => (2 * t) / quantSteps(INT8_SYM);

  it('finds the error-minimizing clip of a Gaussian and a Laplace (int8 symmetric)', () => {
    for (const [values, pdf, bound] of [[gauss, normalPdf, 6], [laplace, laplacePdf, 16]] as const) {
      const { minmax, histogram } = stats(values);
      const r = estimateRange({ minmax, histogram }, { method: 'mse', target: INT8_SYM });
      expect(r.max).toBe(-r.min);
      // Against the samples' own optimum (what the histogram should reproduce) ...
      const emp = empiricalMse(values, r.max - 0.5, r.max + 0.5, symSteps);
      expect(Math.abs(r.max - emp)).toBeLessThan(0.03);
      // ... and against the density's (they differ by the sampling noise of the tail).
      const t = analyticMse(pdf, bound, symSteps, false);
      expect(Math.abs(r.max - t) / t).toBeLessThan(0.08);
    }
  });

  it('counts exact zeros as error-free: ReLU(Gaussian) on uint8', () => {
    const { minmax, histogram } = stats(relu);
    const r = estimateRange({ minmax, histogram }, { method: 'mse', target: UINT8 });
    expect(r.min).toBe(0);
    expect(Math.abs(r.max - empiricalMse(relu, 2.5, 5, (x) => x / 255))).toBeLessThan(0.03);
    // Zeros are exact: only the positive half of the density enters the error.
    const t = analyticMse((x) => (x > 0 ? normalPdf(x) : 0), 6, (x) => x / 255, true);
    expect(Math.abs(r.max - t) / t).toBeLessThan(0.08);
  });

  it('asymmetric two-sided data: both ends are searched on their own', () => {
    const shifted = gauss.map((v) => v * 0.5 + 1); // N(1, 0.5): min < 0 < max, asymmetric around 0
    const { minmax, histogram } = stats(shifted);
    const r = mseRange(searchSpace(histogram, UINT8), quantSteps(UINT8), { min: minmax.min, max: 1 }).range;
    // The clip on each side sits about the same number of sigmas from the mean.
    expect((1 - r.min) / 0.5).toBeGreaterThan(2.8);
    expect(Math.abs((1 - r.min) - (r.max - 1))).toBeLessThan(0.25);
  });
});

describe('percentile calibration', () => {
  const sorted = Float64Array.from(gauss).sort();
  const absSorted = Float64Array.from(gauss, Math.abs).sort();
  const { minmax, histogram } = stats(gauss);

  it('symmetric keeps p% of |x|; asymmetric cuts (100-p)/2 % from each tail, as ONNX Runtime does', () => {
    for (const p of [99, 99.9, 99.99]) {
      const sym = estimateRange({ minmax, histogram }, { method: 'percentile', percentile: p, target: INT8_SYM });
      expect(Math.abs(sym.max - absSorted[Math.floor((absSorted.length * p) / 100)]!)).toBeLessThan(2 * histogram.binWidth);
      const asym = percentileRange(histogram, p, false);
      const cut = (100 - p) / 200;
      expect(Math.abs(asym.min - sorted[Math.floor(sorted.length * cut)]!)).toBeLessThan(2 * histogram.binWidth);
      expect(Math.abs(asym.max - sorted[Math.floor(sorted.length * (1 - cut))]!)).toBeLessThan(2 * histogram.binWidth);
    }
  });

  it('100 keeps everything', () => {
    expect(percentileRange(histogram, 100, false)).toEqual({ min: histogram.min, max: histogram.max });
  });
});

describe('min/max ranges and targets', () => {
  const m = (min: number, max: number): MinMaxStat => ({ kind: 'minmax', tensor: 't', min, max, meanMin: min / 2, meanMax: max / 2, nonFinite: 0, samples: 10, widenings: [] });

  it('always contain zero, and are symmetric for symmetric targets', () => {
    expect(estimateRange({ minmax: m(0.5, 3) }, { method: 'minmax', target: UINT8 })).toEqual({ min: 0, max: 3 });
    expect(estimateRange({ minmax: m(-1, 3) }, { method: 'minmax', target: INT8_SYM })).toEqual({ min: -3, max: 3 });
    expect(estimateRange({ minmax: m(-4, 3) }, { method: 'minmax', movingAverage: true, target: UINT8 })).toEqual({ min: -2, max: 1.5 });
  });

  it('count steps like ONNX Runtime (restricted range for symmetric signed)', () => {
    expect(quantSteps({ type: 'int8', symmetric: true })).toBe(254);
    expect(quantSteps({ type: 'int8', symmetric: false })).toBe(255);
    expect(quantSteps({ type: 'uint8', symmetric: false })).toBe(255);
    expect(quantSteps({ type: 'int16', symmetric: true })).toBe(65534);
    expect(quantSteps({ type: 'uint16', symmetric: false })).toBe(65535);
  });

  it('16-bit entropy has too many levels for the histogram to lose anything: the full range', () => {
    const { minmax, histogram } = stats(gauss);
    expect(estimateRange({ minmax, histogram }, { method: 'entropy', target: { type: 'int16', symmetric: true } })).toEqual(
      estimateRange({ minmax, histogram }, { method: 'minmax', target: { type: 'int16', symmetric: true } }),
    );
  });
});
