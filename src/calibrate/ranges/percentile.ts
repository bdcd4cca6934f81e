/**
 * Percentile calibration from the histogram, as ONNX Runtime defines it: symmetric targets keep
 * `p`% of |x|; asymmetric ones cut (100 - p)/2 % from each tail. Interpolated inside the bin.
 */
import type { TensorRange } from '../types.js';
import type { HistogramStat } from '../stats/results.js';
import { foldMagnitudes } from './search-space.js';

/** The value below which `count` of the histogram's values lie, walking bins from the left. */
function quantileFromLeft(counts: Float64Array, origin: number, w: number, count: number): number {
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (cum + c >= count && c > 0) return origin + (i + (count - cum) / c) * w;
    cum += c;
  }
  return origin + counts.length * w;
}

export function percentileRange(h: HistogramStat, percentile: number, symmetric: boolean): TensorRange {
  if (h.binWidth === 0 || h.total === 0) return { min: 0, max: 0 };
  const w = h.binWidth;
  if (symmetric) {
    const absmax = Math.max(Math.abs(h.min), Math.abs(h.max));
    const t = Math.min(absmax, quantileFromLeft(foldMagnitudes(h, 'both'), 0, w, (h.total * percentile) / 100));
    return { min: -t, max: t };
  }
  const cut = (h.total * (100 - percentile)) / 200;
  const origin = h.offset * w;
  const lower = Math.max(h.min, quantileFromLeft(h.counts, origin, w, cut));
  const upper = Math.min(h.max, quantileFromLeft(h.counts, origin, w, h.total - cut));
  return { min: Math.min(lower, 0), max: Math.max(upper, 0) };
}
