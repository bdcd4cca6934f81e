/**
 * AWQ's weight clipping search (auto_clip in the reference implementation): for every output
 * column and block of K, the block's weights are clamped to [-r m, r m] (m = max|w| of the block)
 * for r in 1.0, 0.95, ..., 0.5, quantized as RTN would, and the ratio with the least output
 * error d^T H_jj d is kept, d = w - Q(clamp(w)) over the block's rows and H_jj the block's part of
 * X^T X. Clamping a few large weights gives every other weight of the block finer steps. The
 * weights are clamped in place; plain RTN afterwards reproduces the searched codes exactly (it
 * sees the same clamped block), so the quantizer itself stays RTN.
 */
import { dequantizeBlocks, quantizeRtn, type BlockSpec } from './block-quant.js';

const RATIOS = Array.from({ length: 11 }, (_, i) => 1 - i * 0.05);

/**
 * Clamps `w` [K, N] (row-major) block by block; `gram(k, l)` is X^T X of the input that multiplies
 * `w` (in the same, possibly scaled, domain). Returns the fraction of (column, block) pairs clipped.
 */
export function clipWeights(w: Float32Array, K: number, N: number, spec: BlockSpec, gram: (k: number, l: number) => number): number {
  let clipped = 0, pairs = 0;
  for (let k0 = 0; k0 < K; k0 += spec.blockSize) {
    const B = Math.min(spec.blockSize, K - k0);
    const h = new Float64Array(B * B);
    for (let a = 0; a < B; a++) for (let b = 0; b < B; b++) h[a * B + b] = gram(k0 + a, k0 + b);
    // As the reference, symmetric or not: clamp to +-r max|w|, so only the larger side moves until
    // r max|w| is below the other side's extreme (measured on the trained decoder: shrinking both
    // ends of an asymmetric block by r instead was worse on perplexity, agreement and logit error).
    const hi = new Float64Array(N);
    for (let a = 0; a < B; a++) for (let n = 0; n < N; n++) { const m = Math.abs(w[(k0 + a) * N + n]!); if (m > hi[n]!) hi[n] = m; }
    const lo = hi.map((m) => -m);
    const best = new Float64Array(N).fill(Infinity);
    const bestRatio = new Float64Array(N).fill(1);
    const block = new Float32Array(B * N);
    const d = new Float64Array(B * N);
    const hd = new Float64Array(N);
    const err = new Float64Array(N);
    for (const r of RATIOS) {
      for (let a = 0; a < B; a++) for (let n = 0; n < N; n++) {
        const v = w[(k0 + a) * N + n]!;
        const l = r * lo[n]!, u = r * hi[n]!;
        block[a * N + n] = v < l ? l : v > u ? u : v;
      }
      const deq = dequantizeBlocks(quantizeRtn(block, B, N, spec));
      for (let i = 0; i < B * N; i++) d[i] = w[k0 * N + i]! - deq[i]!;
      err.fill(0);
      for (let a = 0; a < B; a++) {
        hd.fill(0);
        for (let b = 0; b < B; b++) {
          const hab = h[a * B + b]!;
          if (hab === 0) continue;
          const row = b * N;
          for (let n = 0; n < N; n++) hd[n]! += hab * d[row + n]!;
        }
        const row = a * N;
        for (let n = 0; n < N; n++) err[n]! += d[row + n]! * hd[n]!;
      }
      for (let n = 0; n < N; n++) if (err[n]! < best[n]!) { best[n] = err[n]!; bestRatio[n] = r; }
    }
    for (let n = 0; n < N; n++) {
      pairs++;
      const r = bestRatio[n]!;
      if (r === 1) continue;
      clipped++;
      const l = r * lo[n]!, u = r * hi[n]!;
      for (let a = 0; a < B; a++) {
        const at = (k0 + a) * N + n;
        const v = w[at]!;
        w[at] = v < l ? l : v > u ? u : v;
      }
    }
  }
  return pairs ? clipped / pairs : 0;
}
