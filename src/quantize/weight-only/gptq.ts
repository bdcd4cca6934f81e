/**
 * GPTQ (Frantar et al., 2022): quantize the rows of W [K, N] (input features) one at a time and
 * spread each row's rounding error over the rows not yet quantized, weighted by the inverse
 * Hessian H = X^T X of the layer's inputs, so the layer's output error stays small rather than
 * each weight's. Blocks are fitted when the first row of a block is reached, on the already
 * compensated weights. Updates are applied lazily in batches of 128 rows (the paper's "lazy batch"),
 * which keeps the O(K^2 N) work in contiguous row operations.
 */
import { allocateBlocks, decode, encode, fitBlock, type BlockQuantized, type BlockSpec } from './block-quant.js';
import { clearDeadInputs, dampedInverseFactor } from '../../linalg.js';

/** Column tile of the lazy-batch update (128 doubles per row: the batch's error tile fits in L2). */
const TILE = 128;

export interface GptqOptions {
  /** Damping added to the diagonal, as a fraction of its mean (default 0.01). */
  dampPercent?: number;
}

/**
 * `xtx` is X^T X [K, K] of the layer's input over the calibration data (any positive scale).
 * Returns codes and scales in the same layout as quantizeRtn.
 */
export function quantizeGptq(w: Float32Array, K: number, N: number, spec: BlockSpec, xtx: Float64Array, options: GptqOptions = {}): BlockQuantized {
  const W = Float64Array.from(w);
  // Weights that are exactly zero were pruned: they stay zero (the code of 0), and their error is
  // spread like any other, so a pruned model keeps its sparsity pattern (SparseGPT's joint mode).
  const pruned = new Uint8Array(K * N);
  for (let i = 0; i < pruned.length; i++) pruned[i] = w[i] === 0 ? 1 : 0;
  const H = Float64Array.from(xtx);
  clearDeadInputs(H, W, K, N);
  const U = dampedInverseFactor(H, K, options.dampPercent ?? 0.01);
  const q = allocateBlocks(K, N, spec);
  const lo = new Float64Array(N);
  const hi = new Float64Array(N);
  // The lazy batch is a multiple of the block size, so a block never straddles two batches.
  const batch = Math.max(128, spec.blockSize);
  const err = new Float64Array(batch * N);
  for (let b0 = 0; b0 < K; b0 += batch) {
    const b1 = Math.min(K, b0 + batch);
    for (let k = b0; k < b1; k++) {
      const j = Math.floor(k / spec.blockSize);
      if (k % spec.blockSize === 0) fitBlock(W, q, j, k, Math.min(K, k + spec.blockSize), lo, hi);
      const d = U[k * K + k]!;
      const row = k * N;
      const e = (k - b0) * N;
      for (let n = 0; n < N; n++) {
        const c = pruned[row + n] ? encode(q, 0, n, j) : encode(q, W[row + n]!, n, j);
        q.codes[n * K + k] = c;
        err[e + n] = (W[row + n]! - decode(q, c, n, j)) / d;
      }
      // Compensate the rest of this batch now; rows after it get the whole batch's errors at once.
      for (let k2 = k + 1; k2 < b1; k2++) {
        const f = U[k * K + k2]!;
        if (f === 0) continue;
        const r2 = k2 * N;
        for (let n = 0; n < N; n++) W[r2 + n]! -= err[e + n]! * f;
      }
    }
    // Columns in tiles, so the batch's errors for a tile stay in cache while every later row is updated.
    for (let n0 = 0; n0 < N; n0 += TILE) {
      const n1 = Math.min(N, n0 + TILE);
      for (let k2 = b1; k2 < K; k2++) {
        const r2 = k2 * N;
        for (let k = b0; k < b1; k++) {
          const f = U[k * K + k2]!;
          if (f === 0) continue;
          const e = (k - b0) * N;
          for (let n = n0; n < n1; n++) W[r2 + n]! -= err[e + n]! * f;
        }
      }
    }
  }
  return q;
}
