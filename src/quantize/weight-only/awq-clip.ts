/**
 * AWQ's weight clipping search (auto_clip in the reference implementation): for every output
 * column and block of K, the block's weights are clamped to [-r m, r m] (m = max|w| of the block)
 * for r in 1.0, 0.95, ..., 0.5, quantized as RTN would, and the ratio with the least output
 * error d^T H_jj d is kept, d = w - Q(clamp(w)) over the block's rows and H_jj the block's part of
 * X^T X. Clamping a few large weights gives every other weight of the block finer steps. The
 * weights are clamped in place; plain RTN afterwards reproduces the searched codes exactly (it
 * sees the same clamped block), so the quantizer itself stays RTN.
 */
import type { BlockSpec } from './block-quant.js';
import type { DenseProducts } from '../../runtime/dense-products.js';

const RATIOS = Array.from({ length: 11 }, (_, i) => 1 - i * 0.05);

/**
 * Clamps `w` [K, N] (row-major) block by block; `gram(k, l)` is X^T X of the input that multiplies
 * `w` (in the same, possibly scaled, domain). Returns the fraction of (column, block) pairs clipped.
 * The errors of all ratios of a block come from one product in ONNX Runtime's float64 GEMM (`dp`):
 * as a loop in JS they were most of AWQ's time at 2048-5632 wide layers.
 */
export async function clipWeights(w: Float32Array, K: number, N: number, spec: BlockSpec, gram: (k: number, l: number) => number, dp: DenseProducts): Promise<number> {
  let clipped = 0, pairs = 0;
  const R = RATIOS.length;
  for (let k0 = 0; k0 < K; k0 += spec.blockSize) {
    const B = Math.min(spec.blockSize, K - k0);
    const h = dp.work('clip.h', B * B);
    for (let a = 0; a < B; a++) for (let b = 0; b < B; b++) h[a * B + b] = gram(k0 + a, k0 + b);
    // As the reference, symmetric or not: clamp to +-r max|w|, so only the larger side moves until
    // r max|w| is below the other side's extreme (measured on the trained decoder: shrinking both
    // ends of an asymmetric block by r instead was worse on perplexity, agreement and logit error).
    const hi = new Float64Array(N);
    for (let a = 0; a < B; a++) for (let n = 0; n < N; n++) { const m = Math.abs(w[(k0 + a) * N + n]!); if (m > hi[n]!) hi[n] = m; }
    const lo = hi.map((m) => -m);
    // d [B, R * N]: row a holds the error of block row a for every ratio, ratio by ratio.
    const d = dp.work('clip.d', B * R * N);
    for (const [ri, r] of RATIOS.entries()) clampedRoundTrip(w, k0, B, N, r, hi, spec, d, R * N, ri * N);
    // H d in one product (H is symmetric, so H^T d = H d), then err(r, n) = d_rn^T H d_rn.
    const hd = { rows: B, cols: R * N, data: dp.work('clip.hd', B * R * N) };
    await dp.product({ rows: B, cols: B, data: h }, { rows: B, cols: R * N, data: d }, hd);
    const err = new Float64Array(R * N);
    for (let a = 0; a < B; a++) for (let i = 0; i < R * N; i++) err[i]! += d[a * R * N + i]! * hd.data[a * R * N + i]!;
    for (let n = 0; n < N; n++) {
      let best = Infinity, r = 1;
      for (const [ri, ratio] of RATIOS.entries()) if (err[ri * N + n]! < best) { best = err[ri * N + n]!; r = ratio; }
      pairs++;
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

/**
 * For one quantization block (rows k0..k0+B of `w` [K, N]) clamped to +-r hi[n] per column: the
 * error w - deq(RTN(clamped)) of every value, written to `d` at row stride `stride` from column
 * `offset`. The same arithmetic as quantizeRtn then dequantizeBlocks (fitBlock's float64 scale
 * for the zero point, its float32 copy for the codes), without their allocations and N-major
 * layout: as those two calls, this was the rest of AWQ's time at 1B scale.
 */
export function clampedRoundTrip(w: Float32Array, k0: number, B: number, N: number, r: number, hi: Float64Array, spec: BlockSpec, d: Float64Array, stride: number, offset: number): void {
  const qmax = (1 << spec.bits) - 1;
  const half = 1 << (spec.bits - 1);
  // Row by row (w is row-major): fitBlock's range per column, which always holds 0.
  const mn = new Float64Array(N), mx = new Float64Array(N);
  for (let a = 0; a < B; a++) {
    const row = (k0 + a) * N;
    for (let n = 0; n < N; n++) {
      const u = r * hi[n]!;
      const x = w[row + n]!;
      const v = Math.fround(x < -u ? -u : x > u ? u : x);
      if (v < mn[n]!) mn[n] = v;
      if (v > mx[n]!) mx[n] = v;
    }
  }
  const scale = new Float64Array(N), zp = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    if (spec.symmetric) {
      const neg = -mn[n]! >= mx[n]!;
      const mag = neg ? -mn[n]! : mx[n]!;
      scale[n] = Math.fround(mag > 0 ? mag / (neg ? half : half - 1) : 1);
      zp[n] = half;
    } else {
      const range = mx[n]! - mn[n]!;
      const wide = range > 0 ? range / qmax : 1;
      scale[n] = Math.fround(wide);
      const z = Math.round(-mn[n]! / wide);
      zp[n] = z < 0 ? 0 : z > qmax ? qmax : z;
    }
  }
  for (let a = 0; a < B; a++) {
    const row = (k0 + a) * N;
    const out = a * stride + offset;
    for (let n = 0; n < N; n++) {
      const u = r * hi[n]!;
      const x = w[row + n]!;
      const v = Math.fround(x < -u ? -u : x > u ? u : x);
      let c = Math.round(v / scale[n]!) + zp[n]!;
      c = c < 0 ? 0 : c > qmax ? qmax : c;
      d[out + n] = x - Math.fround((c - zp[n]!) * scale[n]!);
    }
  }
}
