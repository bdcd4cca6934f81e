/**
 * MSE calibration: the clipping range that minimizes the expected squared quantization error for the
 * target's number of steps. Values inside the range lose s^2/12 on average to rounding (s = the step);
 * values outside lose their distance to the bound. Exact zeros quantize without error. Prefix and
 * suffix sums of counts, c*counts and c^2*counts make each candidate O(1).
 */
import type { TensorRange } from '../types.js';
import { bestWindow, type SearchSpace } from './search-space.js';

export interface MseChoice {
  range: TensorRange;
  /** Expected squared error per value at the chosen range. */
  error: number;
}

export function mseRange(space: SearchSpace, steps: number, fallback: TensorRange): MseChoice {
  const h = space.counts;
  const L = h.length;
  // Prefix sums for the left tail, suffix sums for the right one (no cancellation from total - prefix).
  const PN = new Float64Array(L + 1), P1 = new Float64Array(L + 1), P2 = new Float64Array(L + 1);
  const SN = new Float64Array(L + 1), S1 = new Float64Array(L + 1), S2 = new Float64Array(L + 1);
  for (let i = 0; i < L; i++) {
    const c = space.centre(i);
    PN[i + 1] = PN[i]! + h[i]!;
    P1[i + 1] = P1[i]! + h[i]! * c;
    P2[i + 1] = P2[i]! + h[i]! * c * c;
  }
  for (let i = L - 1; i >= 0; i--) {
    const c = space.centre(i);
    SN[i] = SN[i + 1]! + h[i]!;
    S1[i] = S1[i + 1]! + h[i]! * c;
    S2[i] = S2[i + 1]! + h[i]! * c * c;
  }
  const total = PN[L]!;
  if (total === 0) return { range: fallback, error: 0 };
  const zeroBin = space.zeroBin;
  let best = Infinity;
  const score = (s: number, e: number): number => {
    const r = space.toRange(s, e);
    const scale = (r.max - r.min) / steps;
    if (!(scale > 0)) return Infinity;
    let inside = PN[e]! - PN[s]!;
    if (zeroBin >= s && zeroBin < e) inside -= Math.min(space.zeros, h[zeroBin]!);
    const [lo, hi] = space.bounds(s, e);
    const right = S2[e]! - 2 * hi * S1[e]! + hi * hi * SN[e]!;
    const left = P2[s]! - 2 * lo * P1[s]! + lo * lo * PN[s]!;
    const err = (inside * scale * scale) / 12 + Math.max(0, right) + Math.max(0, left);
    if (err < best) best = err;
    return err;
  };
  const window = bestWindow(space, score);
  if (!window) return { range: fallback, error: 0 };
  return { range: space.toRange(window[0], window[1]), error: best / total };
}
