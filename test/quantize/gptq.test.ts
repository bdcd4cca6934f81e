/** GPTQ's linear algebra and its error compensation, on matrices built in code. */
import { afterAll, describe, expect, it } from 'vitest';
import { choleskyLowerInto, dampedInverseFactor, invertLowerTransposedInto, upperCholeskyOfInverse } from '../../src/linalg.js';
import { dampedInverseFactorInto, upperCholeskyOfInverseInto } from '../../src/linalg-inverse-factor.js';
import { DenseProducts } from '../../src/runtime/dense-products.js';
import { quantizeGptq } from '../../src/quantize/weight-only/gptq.js';
import { dequantizeBlocks, quantizeRtn, type BlockSpec } from '../../src/quantize/weight-only/block-quant.js';
import { Rng } from '../../fixtures/synthetic/random.js';

function matmul(a: Float64Array, b: Float64Array, n: number, m: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) for (let j = 0; j < p; j++) out[i * p + j]! += a[i * m + k]! * b[k * p + j]!;
  return out;
}

function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a[i * m + j]!;
  return out;
}

/** Rows of inputs with strongly correlated features, like real activations; returns X [rows, K] and X^T X. */
function correlatedInputs(rng: Rng, rows: number, K: number): { x: Float64Array; xtx: Float64Array } {
  const latent = 6;
  const mix = Float64Array.from(rng.normals(latent * K));
  const x = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    const z = rng.normals(latent);
    for (let k = 0; k < K; k++) {
      let v = 0.05 * rng.normal();
      for (let l = 0; l < latent; l++) v += z[l]! * mix[l * K + k]!;
      x[r * K + k] = v;
    }
  }
  return { x, xtx: matmul(transpose(x, rows, K), x, K, rows, K) };
}

// The products in ONNX Runtime's float64 GEMM, shared by every test here.
const dp = new DenseProducts();
afterAll(() => dp.release());

describe('GPTQ linear algebra', () => {
  const rng = new Rng(5);
  const n = 24;
  const { xtx } = correlatedInputs(rng, 200, n);
  for (let i = 0; i < n; i++) xtx[i * n + i]! += 1;

  it('factors, inverts and re-factors a positive-definite matrix', () => {
    const l = new Float64Array(n * n);
    expect(choleskyLowerInto(xtx, l, n)).toBe(true);
    const llt = matmul(l, transpose(l, n, n), n, n, n);
    for (let i = 0; i < n * n; i++) expect(llt[i]).toBeCloseTo(xtx[i]!, 6);
    const lit = new Float64Array(n * n);
    invertLowerTransposedInto(l, lit, n);
    const li = transpose(lit, n, n);
    const eye = matmul(l, li, n, n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(eye[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 9);
    const u = upperCholeskyOfInverse(xtx, n)!;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    const inv = matmul(transpose(u, n, n), u, n, n, n);
    const back = matmul(inv, xtx, n, n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(back[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 6);
  });

  it('refuses a matrix that is not positive definite', async () => {
    expect(choleskyLowerInto(Float64Array.from([1, 2, 2, 1]), new Float64Array(4), 2)).toBe(false);
    expect(upperCholeskyOfInverse(Float64Array.from([1, 2, 2, 1]), 2)).toBeUndefined();
    expect(await upperCholeskyOfInverseInto(Float64Array.from([1, 2, 2, 1]), 2, new Float64Array(4), dp, 1)).toBe(false);
  });

  it('the blocked factor (products in ONNX Runtime, leaves of 4 and 5 rows) equals the one of linalg.ts', async () => {
    const ref = upperCholeskyOfInverse(xtx, n)!;
    for (const leaf of [4, 5]) {
      const u = new Float64Array(n * n).fill(7);
      expect(await upperCholeskyOfInverseInto(xtx, n, u, dp, leaf)).toBe(true);
      let worst = 0, scale = 0;
      for (let i = 0; i < n * n; i++) { worst = Math.max(worst, Math.abs(u[i]! - ref[i]!)); scale = Math.max(scale, Math.abs(ref[i]!)); }
      expect(worst / scale).toBeLessThan(1e-9);
    }
  });

  it('in place (the damped copy of H in the factor\'s own array, GPTQ\'s way) gives the same factor', async () => {
    const ref = dampedInverseFactor(xtx, n, 0.01);
    for (const leaf of [4, 5, 1000]) {
      const u = new Float64Array(n * n).fill(7);
      await dampedInverseFactorInto(xtx, n, 0.01, u, dp, leaf);
      let worst = 0, scale = 0;
      for (let i = 0; i < n * n; i++) { worst = Math.max(worst, Math.abs(u[i]! - ref[i]!)); scale = Math.max(scale, Math.abs(ref[i]!)); }
      expect(worst / scale).toBeLessThan(1e-9);
    }
  });
});

describe('quantizeGptq', () => {
  const rng = new Rng(8);
  const K = 96, N = 40, rows = 400;
  const { x, xtx } = correlatedInputs(rng, rows, K);
  const w = rng.normals(K * N, 0.1);

  /** ||X W - X Wq|| / ||X W||: the layer's output error, what GPTQ minimizes. */
  const outputError = (wq: Float32Array) => {
    const d = new Float64Array(K * N);
    for (let i = 0; i < d.length; i++) d[i] = w[i]! - wq[i]!;
    const e = matmul(x, d, rows, K, N);
    const y = matmul(x, Float64Array.from(w), rows, K, N);
    let a = 0, b = 0;
    for (let i = 0; i < e.length; i++) { a += e[i]! ** 2; b += y[i]! ** 2; }
    return Math.sqrt(a / b);
  };

  for (const spec of [{ bits: 4, blockSize: 32, symmetric: false }, { bits: 4, blockSize: 16, symmetric: true }, { bits: 8, blockSize: 32, symmetric: false }] as BlockSpec[]) {
    it(`cuts the output error of RTN (int${spec.bits}, block ${spec.blockSize}, ${spec.symmetric ? 'symmetric' : 'asymmetric'})`, async () => {
      const rtn = outputError(dequantizeBlocks(quantizeRtn(w, K, N, spec)));
      const gptq = outputError(dequantizeBlocks(await quantizeGptq(w, K, N, spec, xtx, dp)));
      expect(gptq).toBeLessThan(0.5 * rtn);
    });
  }

  it('lazy batches of 16 and 32 rows (several batches, sub-batches, products in ONNX Runtime) give the codes of one batch', async () => {
    const spec: BlockSpec = { bits: 4, blockSize: 16, symmetric: false };
    const whole = await quantizeGptq(w, K, N, spec, xtx, dp, { batch: K });
    for (const batch of [16, 32]) {
      const q = await quantizeGptq(w, K, N, spec, xtx, dp, { batch });
      // Only the order of float64 sums differs: a code may flip where a value sits on a rounding edge.
      let differ = 0;
      for (let i = 0; i < q.codes.length; i++) if (q.codes[i] !== whole.codes[i]) differ++;
      expect(differ).toBeLessThanOrEqual(2);
      expect(outputError(dequantizeBlocks(q))).toBeCloseTo(outputError(dequantizeBlocks(whole)), 4);
    }
  });

  it('zeroes weights of inputs that never fire (also when the factor of that H is reused)', async () => {
    const h = Float64Array.from(xtx);
    for (let j = 0; j < K; j++) { h[3 * K + j] = 0; h[j * K + 3] = 0; }
    for (let call = 0; call < 2; call++) {
      const q = dequantizeBlocks(await quantizeGptq(w, K, N, { bits: 4, blockSize: 32, symmetric: false }, h, dp));
      for (let n = 0; n < N; n++) expect(Math.abs(q[3 * N + n]!)).toBeLessThan(0.02);
    }
  });

  it('a wide weight quantized in slices of columns (an LM head) gets the codes, scales and zero points of one piece', async () => {
    const spec: BlockSpec = { bits: 4, blockSize: 32, symmetric: false };
    const whole = await quantizeGptq(w, K, N, spec, xtx, dp);
    // 40 columns in slices of 16, 16 and 8.
    const sliced = await quantizeGptq(w, K, N, spec, xtx, dp, { columns: 16 });
    let differ = 0;
    for (let i = 0; i < whole.codes.length; i++) if (whole.codes[i] !== sliced.codes[i]) differ++;
    // Only the order of float64 sums in the products may differ (a code on a rounding edge).
    expect(differ).toBeLessThanOrEqual(2);
    expect(Array.from(sliced.scales)).toEqual(Array.from(whole.scales).map((v, i) => (Math.abs(v - sliced.scales[i]!) < 1e-6 * Math.abs(v) ? sliced.scales[i]! : v)));
    expect(Array.from(sliced.zeroPoints!).filter((z, i) => z !== whole.zeroPoints![i]).length).toBeLessThanOrEqual(2);
  });

  it('weights sharing an input (Q/K/V) reuse its factor and get the codes a fresh factorization gives', async () => {
    const spec: BlockSpec = { bits: 4, blockSize: 16, symmetric: false };
    const other = Float32Array.from(w, (v, i) => v * (1 + 0.3 * Math.sin(i)));
    const h = Float64Array.from(xtx);
    await quantizeGptq(w, K, N, spec, h, dp);
    const reused = await quantizeGptq(other, K, N, spec, h, dp);
    // Then another input: its own factor, not the one still held.
    const h2 = Float64Array.from(xtx, (v, i) => (i % (K + 1) === 0 ? 2 * v : v));
    const second = await quantizeGptq(other, K, N, spec, h2, dp);
    const fresh = new DenseProducts();
    try {
      expect(Array.from((await quantizeGptq(other, K, N, spec, h, fresh)).codes)).toEqual(Array.from(reused.codes));
      expect(Array.from((await quantizeGptq(other, K, N, spec, h2, fresh)).codes)).toEqual(Array.from(second.codes));
      expect(Array.from(second.codes)).not.toEqual(Array.from(reused.codes));
    } finally {
      await fresh.release();
    }
  });
});
