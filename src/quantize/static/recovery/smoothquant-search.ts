/**
 * SmoothQuant's alpha per layer, chosen by the output error it predicts, with "no smoothing" as a
 * candidate so that a layer without outliers is left alone (one alpha for all layers helps some
 * and hurts others). For Y = X W with X' = X S^-1, W' = S W, the squared error of the int8 product
 * splits into
 * - the activation rounding: per-tensor steps of (max - min) / 255 of X', noise of variance
 *   step^2 / 12 on every element, through W': rows * step^2 / 12 * ||W'||_F^2;
 * - the weight rounding: dW' = Q(W') - W' (per output column, or per tensor, symmetric int8),
 *   through X': sum over columns n of dW'_n^T (S^-1 X^T X S^-1) dW'_n.
 * Both come from statistics of the calibration pass (X^T X and the channel extremes), no extra
 * inference. The activation term assumes min/max ranges; the MSE ranges (the default) clip the
 * extremes, so the proxy overrates smoothing there: on the ViT fixture it picked alphas that
 * lowered the logit error with --method minmax and raised it with mse (docs, recovery numbers).
 * A per-channel RMS instead of the extremes was tried and predicted worse.
 */

/** Alphas tried per layer besides "no smoothing". */
export const SEARCH_ALPHAS: readonly number[] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
/** A smoothing must predict at least this much less error than none to be kept (noise of the proxy). */
export const MIN_GAIN = 0.05;

export interface LayerStats {
  /** X^T X summed over `rows` rows, C x C row-major. */
  gram: Float64Array;
  rows: number;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  /** The weights [C, N] of every MatMul reading X. */
  weights: readonly Float32Array[];
  /** One scale per output column (true), or one per weight tensor. */
  perChannel: boolean;
}

/** Predicted squared output error with scales `s` (null: no smoothing). */
export function predictedError(st: LayerStats, s: Float64Array | null): number {
  const c = st.min.length;
  const inv = new Float64Array(c);
  for (let i = 0; i < c; i++) inv[i] = s ? 1 / s[i]! : 1;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < c; i++) {
    lo = Math.min(lo, st.min[i]! * inv[i]!);
    hi = Math.max(hi, st.max[i]! * inv[i]!);
  }
  const step = (hi - lo) / 255;
  let total = 0;
  for (const w of st.weights) {
    const n = w.length / c;
    const ws = new Float64Array(w.length);
    for (let i = 0; i < c; i++) for (let j = 0; j < n; j++) ws[i * n + j] = w[i * n + j]! / inv[i]!;
    let frob = 0;
    for (let k = 0; k < ws.length; k++) frob += ws[k]! * ws[k]!;
    total += st.rows * (step * step / 12) * frob;
    // Symmetric int8 scales, as the planner gives weights.
    const scales = new Float64Array(st.perChannel ? n : 1);
    for (let i = 0; i < c; i++) for (let j = 0; j < n; j++) {
      const k = st.perChannel ? j : 0;
      scales[k] = Math.max(scales[k]!, Math.abs(ws[i * n + j]!) / 127);
    }
    const dw = new Float64Array(c);
    for (let j = 0; j < n; j++) {
      const q = scales[st.perChannel ? j : 0]!;
      for (let i = 0; i < c; i++) {
        const x = ws[i * n + j]!;
        dw[i] = (q > 0 ? Math.round(x / q) * q - x : 0) * inv[i]!;
      }
      // dW^T G dW with the S^-1 of both sides folded into dw.
      for (let a = 0; a < c; a++) {
        if (dw[a] === 0) continue;
        let row = 0;
        const base = a * c;
        for (let b = 0; b < c; b++) row += st.gram[base + b]! * dw[b]!;
        total += dw[a]! * row;
      }
    }
  }
  return total;
}

/** SmoothQuant's scales for one alpha: s_c = max|x_c|^alpha / max|W_c|^(1 - alpha), bounded. */
export function smoothScales(amax: ArrayLike<number>, wmax: ArrayLike<number>, alpha: number): Float64Array {
  const s = new Float64Array(amax.length);
  for (let c = 0; c < s.length; c++) {
    const a = amax[c]!;
    const k = a > 0 && wmax[c]! > 0 ? a ** alpha / wmax[c]! ** (1 - alpha) : 1;
    s[c] = Number.isFinite(k) ? Math.min(1e4, Math.max(1e-4, k)) : 1;
  }
  return s;
}

/** The alpha with the least predicted error, or undefined when none beats no smoothing by MIN_GAIN. */
export function searchAlpha(st: LayerStats, amax: ArrayLike<number>, wmax: ArrayLike<number>): { alpha: number; scales: Float64Array; gain: number } | undefined {
  const none = predictedError(st, null);
  let best: { alpha: number; scales: Float64Array; error: number } | undefined;
  for (const alpha of SEARCH_ALPHAS) {
    const scales = smoothScales(amax, wmax, alpha);
    const error = predictedError(st, scales);
    if (!best || error < best.error) best = { alpha, scales, error };
  }
  if (!best || !(best.error < none * (1 - MIN_GAIN))) return undefined;
  return { alpha: best.alpha, scales: best.scales, gain: 1 - best.error / none };
}
