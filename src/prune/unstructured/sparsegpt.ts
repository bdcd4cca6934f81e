/**
 * SparseGPT (Frantar & Alistarh, 2023): prune a layer in one shot and rebuild it, column by column
 * of the reduction, so that its output on the calibration data changes as little as possible. With
 * H = X^T X of the layer's inputs and U the upper Cholesky factor of H^-1, each pruned weight's
 * error is spread over the weights of later columns (the optimal brain surgeon update restricted to
 * them), and the mask of each block of 128 columns is chosen on the already updated weights by the
 * OBS saliency w^2 / U[k][k]^2 ("adaptive mask selection"); for N:M, per group of M columns.
 *
 * Layout: W is [K, N] (reduction rows k, outputs n), so the column sweep reads contiguous rows;
 * the lazy update of later rows after each block is one blocked product (linalg.subtractProducts).
 */
import { clearDeadInputs, dampedInverseFactor, subtractProducts } from '../../linalg.js';
import { pruneLowest } from './select.js';

export interface SparseGptOptions {
  /** Fraction of the weights to zero (ignored with `nm`). */
  sparsity: number;
  /** N:M: keep n of every m consecutive reduction rows, per output. */
  nm?: { n: number; m: number };
  /** Damping added to the Hessian diagonal, as a fraction of its mean (default 0.01). */
  dampPercent?: number;
  /** Columns per block (default 128; a multiple of m). */
  blockSize?: number;
}

/**
 * Prunes `w` ([K, N] row-major float32, modified in place) given X^T X ([K, K]) of the inputs its
 * K rows multiply. Returns the mask (1 = pruned), same layout.
 */
export function sparseGpt(w: Float32Array, K: number, N: number, xtx: Float64Array, o: SparseGptOptions): Uint8Array {
  const W = Float64Array.from(w);
  const H = Float64Array.from(xtx);
  clearDeadInputs(H, W, K, N);
  const U = dampedInverseFactor(H, K, o.dampPercent ?? 0.01);
  const m = o.nm?.m ?? 1;
  const B = Math.max(m, Math.floor((o.blockSize ?? 128) / m) * m);
  const mask = new Uint8Array(K * N);
  const errT = new Float64Array(N * B); // [N, block]: contiguous per output for the lazy update
  const err = new Float64Array(N);
  const panel = new Float64Array((K) * B); // U[block, later]^T: [later rows, block]
  const scores = new Float32Array(B * N);
  for (let b0 = 0; b0 < K; b0 += B) {
    const b1 = Math.min(K, b0 + B);
    const width = b1 - b0;
    if (!o.nm) {
      // Adaptive mask selection: the block's lowest saliencies, on the weights updated so far.
      for (let k = b0; k < b1; k++) {
        const d = U[k * K + k]!;
        for (let n = 0; n < N; n++) scores[(k - b0) * N + n] = (W[k * N + n]! * W[k * N + n]!) / (d * d);
      }
      const blockMask = new Uint8Array(width * N);
      pruneLowest(scores.subarray(0, width * N), blockMask, Math.round(o.sparsity * width * N));
      mask.set(blockMask, b0 * N);
    }
    for (let k = b0; k < b1; k++) {
      if (o.nm && (k - b0) % m === 0) selectNm(W, U, K, N, k, Math.min(m, b1 - k), o.nm.n, mask);
      const d = U[k * K + k]!;
      const row = k * N;
      for (let n = 0; n < N; n++) {
        const wv = W[row + n]!;
        const q = mask[row + n] ? 0 : wv;
        W[row + n] = q;
        const e = (wv - q) / d;
        err[n] = e;
        errT[n * B + (k - b0)] = e;
      }
      // Compensate the rest of the block now; later rows get the whole block's errors at once.
      for (let k2 = k + 1; k2 < b1; k2++) {
        const f = U[k * K + k2]!;
        if (f === 0) continue;
        const r2 = k2 * N;
        for (let n = 0; n < N; n++) W[r2 + n]! -= err[n]! * f;
      }
    }
    const rest = K - b1;
    if (rest > 0) {
      for (let k2 = 0; k2 < rest; k2++) for (let j = 0; j < width; j++) panel[k2 * width + j] = U[(b0 + j) * K + b1 + k2]!;
      // errT rows have stride B; pack them to the block width for the kernel.
      const e = width === B ? errT : packRows(errT, N, B, width);
      subtractProducts(W, b1 * N, N, panel, e, rest, N, width);
    }
  }
  for (let i = 0; i < w.length; i++) w[i] = mask[i] ? 0 : W[i]!;
  return mask;
}

function packRows(a: Float64Array, rows: number, stride: number, width: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) out[r * width + j] = a[r * stride + j]!;
  return out;
}

/** N:M in SparseGPT: in rows k..k+m-1, per output, mark the m-n lowest saliencies. */
function selectNm(W: Float64Array, U: Float64Array, K: number, N: number, k: number, m: number, n: number, mask: Uint8Array): void {
  const drop = m - n;
  for (let col = 0; col < N; col++) {
    for (let d = 0; d < drop; d++) {
      let best = -1;
      let bestScore = Infinity;
      for (let j = 0; j < m; j++) {
        const i = (k + j) * N + col;
        if (mask[i]) continue;
        const u = U[(k + j) * K + k + j]!;
        const s = (W[i]! * W[i]!) / (u * u);
        if (s < bestScore) { bestScore = s; best = i; }
      }
      if (best >= 0) mask[best] = 1;
    }
  }
}
