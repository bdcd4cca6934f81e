/** The pruning algorithms on typed arrays, against answers known by construction. */
import { describe, expect, it } from 'vitest';
import { kthSmallest, maskLayer, maskNM, maskPerRow, nmOrder } from '../../src/prune/unstructured/select.js';
import { sparseGpt } from '../../src/prune/unstructured/sparsegpt.js';
import { solveSpd, upperCholeskyOfInverse } from '../../src/linalg.js';
import { keptCount } from '../../src/prune/structured/run.js';
import { reshapeGroups } from '../../src/prune/structured/rules/layout.js';
import { Rng } from '../../fixtures/synthetic/random.js';

/** A random SPD matrix X^T X of correlated rows. */
function gram(K: number, rows: number, seed: number): { x: Float64Array; h: Float64Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let prev = 0;
    for (let k = 0; k < K; k++) x[r * K + k] = prev = 0.6 * prev + rng.normal();
  }
  const h = new Float64Array(K * K);
  for (let r = 0; r < rows; r++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) h[i * K + j]! += x[r * K + i]! * x[r * K + j]!;
  return { x, h };
}

describe('selection', () => {
  it('kthSmallest matches a sort, with ties and negative values', () => {
    const v = new Rng(1).normals(1001).map((x) => Math.round(x * 4) / 4 + 0);
    const sorted = Float32Array.from(v).sort();
    for (const k of [0, 1, 500, 999, 1000]) expect(kthSmallest(v, k)).toBe(sorted[k]);
  });

  it('magnitude keeps exactly the largest |w| of the layer', () => {
    const w = Float32Array.from([0.5, -3, 0.1, 2, -0.2, 1, 0, -4]);
    const mask = maskLayer(w.map(Math.abs), 0.5);
    expect([...mask]).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
  });

  it('per row: the same count in every row, ties broken by position', () => {
    const s = Float32Array.from([1, 1, 1, 1, 5, 4, 3, 2]);
    expect([...maskPerRow(s, 2, 4, 0.5)]).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
  });

  it('N:M holds in every group of M along the reduction, and drops the smallest of each', () => {
    const rows = 6;
    const taps = 9;
    const channels = 8;
    const cols = channels * taps;
    const s = new Rng(2).uniforms(rows * cols);
    const order = nmOrder(cols, taps, 4) as Int32Array;
    const mask = maskNM(s, rows, cols, order, 2, 4);
    for (let r = 0; r < rows; r++) {
      for (let tap = 0; tap < taps; tap++) {
        for (let c0 = 0; c0 < channels; c0 += 4) {
          // Group: 4 consecutive input channels at one kernel tap (weight column c * taps + tap).
          const idx = [0, 1, 2, 3].map((k) => r * cols + (c0 + k) * taps + tap);
          expect(idx.filter((i) => mask[i]).length).toBe(2);
          const keptMin = Math.min(...idx.filter((i) => !mask[i]).map((i) => s[i]!));
          const prunedMax = Math.max(...idx.filter((i) => mask[i]).map((i) => s[i]!));
          expect(prunedMax).toBeLessThanOrEqual(keptMin);
        }
      }
    }
    expect(nmOrder(9, 9, 4)).toMatch(/no group of 4/);
    expect(nmOrder(6 * 9, 9, 4)).toMatch(/not a multiple of 4/);
  });
});

describe('linear algebra', () => {
  it('upper Cholesky factor of the inverse: U^T U H = I', () => {
    for (const K of [5, 37, 130]) {
      const { h } = gram(K, K + 20, K);
      const u = upperCholeskyOfInverse(h, K)!;
      for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) expect(u[i * K + j]).toBe(0);
      for (const [i, j] of [[0, 0], [K - 1, K - 1], [1, K - 2], [K >> 1, 3]] as const) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          let utu = 0;
          for (let m = 0; m < K; m++) utu += u[m * K + i]! * u[m * K + k]!;
          s += utu * h[k * K + j]!;
        }
        expect(s).toBeCloseTo(i === j ? 1 : 0, 8);
      }
    }
    expect(upperCholeskyOfInverse(Float64Array.from([1, 2, 2, 1]), 2)).toBeUndefined();
  });

  it('solveSpd solves several right-hand sides', () => {
    const K = 23;
    const { h } = gram(K, 60, 3);
    const x = new Rng(4).normals(K * 3);
    const b = new Float64Array(K * 3);
    for (let i = 0; i < K; i++) for (let c = 0; c < 3; c++) for (let k = 0; k < K; k++) b[i * 3 + c]! += h[i * K + k]! * x[k * 3 + c]!;
    solveSpd(h, K, b, 3, 0);
    for (let i = 0; i < K * 3; i++) expect(b[i]).toBeCloseTo(x[i]!, 6);
  });
});

describe('SparseGPT', () => {
  /** Relative output error of pruned weights W' ([K, N]) on the rows x. */
  function outputError(x: Float64Array, rows: number, K: number, N: number, w: Float32Array, w2: Float32Array): number {
    let num = 0;
    let den = 0;
    for (let r = 0; r < rows; r++) {
      for (let n = 0; n < N; n++) {
        let y = 0;
        let y2 = 0;
        for (let k = 0; k < K; k++) { y += x[r * K + k]! * w[k * N + n]!; y2 += x[r * K + k]! * w2[k * N + n]!; }
        num += (y - y2) ** 2;
        den += y * y;
      }
    }
    return num / den;
  }

  it('zeroes exactly the sparsity asked and keeps the outputs closer than magnitude', () => {
    const K = 96, N = 24, rows = 400;
    const { x, h } = gram(K, rows, 5);
    const w = new Rng(6).normals(K * N);
    const sg = Float32Array.from(w);
    const mask = sparseGpt(sg, K, N, h, { sparsity: 0.5 });
    expect(mask.reduce((a, b) => a + b, 0)).toBe(K * N / 2);
    for (let i = 0; i < sg.length; i++) if (mask[i]) expect(sg[i]).toBe(0);
    const mag = Float32Array.from(w);
    const mm = maskLayer(w.map(Math.abs), 0.5);
    for (let i = 0; i < mag.length; i++) if (mm[i]) mag[i] = 0;
    expect(outputError(x, rows, K, N, w, sg)).toBeLessThan(0.85 * outputError(x, rows, K, N, w, mag));
  });

  it('N:M inside the reconstruction: every group of M rows keeps at most N per output', () => {
    const K = 64, N = 10;
    const { h } = gram(K, 200, 7);
    const w = new Rng(8).normals(K * N);
    sparseGpt(w, K, N, h, { sparsity: 0.5, nm: { n: 2, m: 4 } });
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k += 4) expect([0, 1, 2, 3].filter((j) => w[(k + j) * N + n] !== 0).length).toBeLessThanOrEqual(2);
  });
});

describe('channel counts and reshape groups', () => {
  it('keeps counts on multiples only where the group is wide enough', () => {
    expect(keptCount(256, 0.3, 8, 1)).toBe(176);
    expect(keptCount(16, 0.3, 8, 1)).toBe(11);
    expect(keptCount(32, 0.3, 8, 1)).toBe(24); // four blocks: rounding moves the cut by at most an eighth
    expect(keptCount(4, 0.3, 8, 16)).toBe(3);
    expect(keptCount(10, 1, 1, 1)).toBe(1);
  });

  it('pairs reshape axes by products, the batch with the batch', () => {
    expect(reshapeGroups(['batch', 49, 192], ['', 49, 3, 4, 16])).toEqual([{ inAxes: [0], outAxes: [0] }, { inAxes: [1], outAxes: [1] }, { inAxes: [2], outAxes: [2, 3, 4] }]);
    expect(reshapeGroups(['n', 64, 1, 1], ['n', 64])).toEqual([{ inAxes: [0], outAxes: [0] }, { inAxes: [1], outAxes: [1] }, { inAxes: [2], outAxes: [] }, { inAxes: [3], outAxes: [] }]);
    expect(reshapeGroups(['n', 6, 4], ['n', 4, 6])).toEqual([{ inAxes: [0], outAxes: [0] }, { inAxes: [1, 2], outAxes: [1, 2] }]);
    expect(reshapeGroups(['n', 'h', 4], ['n', 4, 'h'])).toBeUndefined();
  });
});
