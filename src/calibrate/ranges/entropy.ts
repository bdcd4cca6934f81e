/**
 * Entropy calibration as TensorRT does it (and ONNX Runtime and pytorch-quantization copy): for each
 * candidate window of the histogram, the reference distribution P is the window with everything
 * outside added to its edge bins; Q is the window merged into `levels` groups and expanded back
 * evenly over each group's non-empty bins; the window with the smallest KL(P || Q) wins.
 *
 * One deliberate difference: exact zeros are left out. They quantize exactly whatever the range,
 * but TensorRT's version smears their spike (half of a post-ReLU tensor) over the merged group, which
 * drives it to the narrowest window and clips ReLU outputs hard.
 *
 * The straightforward version costs O(bins) per candidate; here every group sum and every P log P
 * comes from prefix sums, so a candidate costs O(levels): all candidates of a 4096-bin histogram
 * take a few milliseconds.
 */
import type { TensorRange } from '../types.js';
import { bestWindow as bestWindow_, type SearchSpace } from './search-space.js';

const xlogx = (x: number) => (x > 0 ? x * Math.log(x) : 0);

export interface EntropyChoice {
  range: TensorRange;
  /** KL divergence of the winning window (Infinity when no window was wide enough to search). */
  divergence: number;
}

/** The window with the smallest KL divergence; `fallback` (the full range) when none has at least `levels` bins. */
export function entropyRange(space: SearchSpace, fallback: TensorRange): EntropyChoice {
  const h = space.counts.slice();
  h[space.zeroBin] = Math.max(0, h[space.zeroBin]! - space.zeros);
  const L = h.length;
  const Q = space.levels;
  const C = new Float64Array(L + 1);
  const NZ = new Float64Array(L + 1);
  const HL = new Float64Array(L + 1);
  for (let i = 0; i < L; i++) {
    C[i + 1] = C[i]! + h[i]!;
    NZ[i + 1] = NZ[i]! + (h[i]! > 0 ? 1 : 0);
    HL[i + 1] = HL[i]! + xlogx(h[i]!);
  }
  const total = C[L]!;
  let best = Infinity;
  const score = (s: number, e: number): number => {
    const len = e - s;
    if (len < Q) return Infinity;
    const inside = C[e]! - C[s]!;
    if (inside <= 0) return Infinity;
    const outL = C[s]!;
    const outR = total - C[e]!;
    // Outliers on an empty edge bin meet q = 0 there: infinite divergence.
    if ((outL > 0 && h[s] === 0) || (outR > 0 && h[e - 1] === 0)) return Infinity;
    let plogp = HL[e]! - HL[s]!;
    plogp += xlogx(h[s]! + outL) - xlogx(h[s]!);
    plogp += xlogx(h[e - 1]! + outR) - xlogx(h[e - 1]!);
    let plogq = 0;
    let firstQ = 0;
    let lastQ = 0;
    for (let g = 0; g < Q; g++) {
      const a = s + Math.floor((g * len + Q - 1) / Q);
      const b = s + Math.floor(((g + 1) * len + Q - 1) / Q);
      const t = C[b]! - C[a]!;
      const n = NZ[b]! - NZ[a]!;
      if (n === 0) continue;
      const q = t / n;
      plogq += t * Math.log(q);
      if (g === 0) firstQ = q;
      if (g === Q - 1) lastQ = q;
    }
    if (outL > 0) plogq += outL * Math.log(firstQ);
    if (outR > 0) plogq += outR * Math.log(lastQ);
    const kl = (plogp - plogq) / total + Math.log(inside / total);
    if (kl < best) best = kl;
    return kl;
  };
  const bestWindow = bestWindow_(space, score);
  if (!bestWindow) return { range: fallback, divergence: Infinity };
  return { range: space.toRange(bestWindow[0], bestWindow[1]), divergence: Math.max(0, best) };
}
