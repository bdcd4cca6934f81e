/**
 * GPTQ (Frantar et al., 2022): quantize the rows of W [K, N] (input features) one at a time and
 * spread each row's rounding error over the rows not yet quantized, weighted by the inverse
 * Hessian H = X^T X of the layer's inputs, so the layer's output error stays small rather than
 * each weight's. Blocks are fitted when the first row of a block is reached, on the already
 * compensated weights.
 *
 * The paper's lazy batches: within a batch of 128 rows every row's error goes to the batch's later
 * rows at once; the rows after the batch get the whole batch's errors in one product,
 * W[b1:] -= U[b0:b1, b1:]^T E, the O(K^2 N) part. That product and U's (O(K^3)) run in
 * ONNX Runtime's float64 GEMM (runtime/dense-products.ts, linalg-inverse-factor.ts): a 4096 x 4096
 * layer takes seconds instead of minutes, with the same result up to the order of float64 sums.
 */
import { allocateBlocks, blockCount, decode, encode, fitBlock, type BlockQuantized, type BlockSpec } from './block-quant.js';
import { copyBlock, type DenseProducts } from '../../runtime/dense-products.js';
import { dampedInverseFactorInto, FACTOR_WORK } from '../../linalg-inverse-factor.js';
import { collectGarbage } from '../../runtime/collect-garbage.js';

export interface GptqOptions {
  /** Damping added to the diagonal, as a fraction of its mean (default 0.01). */
  dampPercent?: number;
  /**
   * Rows per lazy batch (default 128, rounded up to a multiple of the block size). The result does
   * not depend on it beyond float rounding; tests make it small to run several batches.
   */
  batch?: number;
  /** Output columns quantized at a time (default 4096); the result does not depend on it. */
  columns?: number;
}

const COLUMNS = 4096;
/** Inputs this wide have factor work arrays worth a collection to free at once (64 MB and up). */
const LARGE_K = 2048;

/**
 * The H whose factor a 'gptq.u' work array holds, by its buffer (the factor is O(K^3): reused, not
 * redone). Keyed weakly by the buffer, so that dropping the work array (forgetWork) lets it go.
 */
const lastFactor = new WeakMap<ArrayBufferLike, { xtx: Float64Array; K: number; damp: number }>();

/** Rows per sub-batch inside a lazy batch. */
const SUB = 16;

/** Rows per lazy batch: a block must never straddle two batches (its fit needs all earlier errors). */
function batchRows(requested: number | undefined, blockSize: number): number {
  if (requested === undefined) return Math.ceil(128 / blockSize) * blockSize;
  if (requested % blockSize !== 0 && blockSize % requested !== 0) throw new RangeError(`GPTQ: a lazy batch of ${requested} rows and blocks of ${blockSize} rows do not nest; use a multiple or a divisor of the block size`);
  return requested;
}

/**
 * `xtx` is X^T X [K, K] of the layer's input over the calibration data (any positive scale).
 * Returns codes and scales in the same layout as quantizeRtn. `dp` runs the products and keeps the
 * work arrays for the next layer.
 */
export async function quantizeGptq(w: Float32Array, K: number, N: number, spec: BlockSpec, xtx: Float64Array, dp: DenseProducts, options: GptqOptions = {}): Promise<BlockQuantized> {
  const columns = options.columns ?? COLUMNS;
  if (N <= columns) return quantizeColumns(w, K, N, spec, xtx, dp, options);
  // Output columns are independent given H: a wide weight (an LM head, 32000 columns) goes in
  // slices, so its float64 work arrays stay K x `columns` (a whole 2048 x 32000 head took 1 GB).
  const q = allocateBlocks(K, N, spec);
  const kb = blockCount(K, spec.blockSize);
  for (let n0 = 0; n0 < N; n0 += columns) {
    const m = Math.min(columns, N - n0);
    const slice = new Float32Array(K * m);
    for (let k = 0; k < K; k++) slice.set(w.subarray(k * N + n0, k * N + n0 + m), k * m);
    const part = await quantizeColumns(slice, K, m, spec, xtx, dp, options);
    q.codes.set(part.codes, n0 * K);
    q.scales.set(part.scales, n0 * kb);
    if (q.zeroPoints) q.zeroPoints.set(part.zeroPoints!, n0 * kb);
  }
  return q;
}

async function quantizeColumns(w: Float32Array, K: number, N: number, spec: BlockSpec, xtx: Float64Array, dp: DenseProducts, options: GptqOptions): Promise<BlockQuantized> {
  const damp = options.dampPercent ?? 0.01;
  const U = dp.work('gptq.u', K * K);
  const last = lastFactor.get(U.buffer);
  // Q/K/V (and gate/up) share their input, so their H: its factor may still be in U.
  if (!(last && last.xtx === xtx && last.K === K && last.damp === damp)) {
    lastFactor.delete(U.buffer);
    await dampedInverseFactorInto(xtx, K, damp, U, dp, undefined, true);
    lastFactor.set(U.buffer, { xtx, K, damp });
    // The factor's own work arrays (1.7 K^2 values: 420 MB at K = 5632) are not needed again
    // until the next H: freed before W's arrays are taken, they never add to them.
    dp.forgetWork(FACTOR_WORK);
    if (K >= LARGE_K) collectGarbage();
  }
  const W = dp.work('gptq.w', K * N);
  W.set(w);
  // Inputs that never fire: their rows are zeroed here and their diagonal counts as 1 in the
  // factor (clearDeadInputs, without a K x K copy of H: 254 MB at K = 5632).
  for (let k = 0; k < K; k++) if (xtx[k * K + k] === 0) W.fill(0, k * N, (k + 1) * N);
  const q = allocateBlocks(K, N, spec);
  const lo = new Float64Array(N);
  const hi = new Float64Array(N);
  const batch = batchRows(options.batch, spec.blockSize);
  // Within a batch, the same again in sub-batches of 16 rows: a row's error goes to the rest of its
  // sub-batch in JS, a sub-batch's errors to the rest of the batch in one product. The JS loop is
  // then O(16 K N) instead of O(128 K N), which at 0.5 GFLOP/s was a third of the time.
  const sub = batch > SUB && batch % SUB === 0 && (spec.blockSize % SUB === 0 || SUB % spec.blockSize === 0) ? SUB : batch;
  // Row k - b0 holds row k's error divided by U[k][k], the scale the later rows take it at.
  const err = dp.work('gptq.err', batch * N);
  /** Rows [e1, r1) of W get the errors of rows [e0, e1) (of the batch starting at b0). */
  const compensate = async (b0: number, e0: number, e1: number, r1: number) => {
    const rows = e1 - e0;
    const rest = r1 - e1;
    const y = { rows: rest, cols: N, data: dp.work('gptq.y', rest * N) };
    await dp.subtract(
      { rows, cols: rest, data: copyBlock(U, K, e0, e1, rows, rest, dp.work('gptq.u-rows', rows * rest)) },
      { rows, cols: N, data: err.subarray((e0 - b0) * N, (e1 - b0) * N) },
      { rows: rest, cols: N, data: W.subarray(e1 * N, r1 * N) },
      y,
    );
    W.set(y.data, e1 * N);
  };
  for (let b0 = 0; b0 < K; b0 += batch) {
    const b1 = Math.min(K, b0 + batch);
    for (let s0 = b0; s0 < b1; s0 += sub) {
      const s1 = Math.min(b1, s0 + sub);
      for (let k = s0; k < s1; k++) {
        const j = Math.floor(k / spec.blockSize);
        if (k % spec.blockSize === 0) fitBlock(W, q, j, k, Math.min(K, k + spec.blockSize), lo, hi);
        const d = U[k * K + k]!;
        const row = k * N;
        const e = (k - b0) * N;
        for (let n = 0; n < N; n++) {
          // Weights that are exactly zero were pruned: they stay zero (the code of 0), and their error
          // is spread like any other, so a pruned model keeps its sparsity (SparseGPT's joint mode).
          const c = w[row + n] === 0 ? encode(q, 0, n, j) : encode(q, W[row + n]!, n, j);
          q.codes[n * K + k] = c;
          err[e + n] = (W[row + n]! - decode(q, c, n, j)) / d;
        }
        for (let k2 = k + 1; k2 < s1; k2++) {
          const f = U[k * K + k2]!;
          if (f === 0) continue;
          const r2 = k2 * N;
          for (let n = 0; n < N; n++) W[r2 + n]! -= err[e + n]! * f;
        }
      }
      if (s1 < b1) await compensate(b0, s0, s1, b1);
    }
    if (b1 < K) await compensate(b0, b0, b1, K);
  }
  return q;
}
