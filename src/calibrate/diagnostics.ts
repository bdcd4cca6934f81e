/**
 * What calibration tells the user besides the ranges: per tensor, how much the chosen range clips
 * and whether the range was still growing at the end of the data (more data would change it); for
 * the whole set, whether it is too small or too uniform to trust.
 */
import type { TensorDiagnostic, TensorRange } from './types.js';
import type { HistogramStat, MinMaxStat } from './stats/results.js';
import { foldMagnitudes } from './ranges/search-space.js';

/** Below this many samples the set is reported as small. */
export const SMALL_SET = 32;
/** Range growth in the last 10% of samples above this fraction of the final width counts as still widening. */
const LATE_GROWTH = 0.01;
/** A chosen range clipping more than this fraction of values gets a warning. */
const HEAVY_CLIPPING = 0.01;
/** max |x| this many times the 99.99th percentile of |x| is an extreme outlier. */
const OUTLIER_RATIO = 10;

/** Fraction of the histogram's values outside [r.min, r.max] (bins cut by a bound count in proportion). */
export function clippedFraction(h: HistogramStat, r: TensorRange): number {
  if (h.total === 0 || h.binWidth === 0) return 0;
  if (r.min <= h.min && r.max >= h.max) return 0;
  let clipped = 0;
  for (let j = 0; j < h.counts.length; j++) {
    const c = h.counts[j]!;
    if (c === 0) continue;
    // The part of the bin values were actually seen in.
    const lo = Math.max(h.min, (h.offset + j) * h.binWidth);
    const hi = Math.min(h.max, (h.offset + j + 1) * h.binWidth);
    const width = hi - lo;
    if (width <= 0) {
      if (lo < r.min || lo > r.max) clipped += c;
      continue;
    }
    const below = Math.min(1, Math.max(0, (r.min - lo) / width));
    const above = Math.min(1, Math.max(0, (hi - r.max) / width));
    clipped += c * Math.min(1, below + above);
  }
  return Math.min(1, clipped / h.total);
}

/**
 * How much of the final min/max width appeared in the last 10% of samples (1 when it all did). 0
 * when the first values came in one batch past that point (the whole set in one batch): nothing
 * then says how the range grew within it.
 */
export function lateGrowth(m: MinMaxStat): number {
  const width = m.max - m.min;
  if (!(width > 0)) return 0;
  const cutoff = Math.floor(m.samples * 0.9);
  let before: { min: number; max: number } | undefined;
  for (const w of m.widenings) if (w.samples <= cutoff) before = w;
  if (!before) return m.widenings.length <= 1 ? 0 : 1;
  return ((before.min - m.min) + (m.max - before.max)) / width;
}

function magnitudeQuantile(h: HistogramStat, q: number): number {
  const mags = foldMagnitudes(h, 'both');
  const target = h.total * q;
  let cum = 0;
  for (let i = 0; i < mags.length; i++) {
    cum += mags[i]!;
    if (cum >= target) return (i + 1) * h.binWidth;
  }
  return mags.length * h.binWidth;
}

const pct = (x: number) => `${(x * 100).toFixed(x >= 0.1 ? 0 : x >= 0.001 ? 1 : 2)}%`;

export function diagnoseTensor(m: MinMaxStat, h: HistogramStat | undefined, range: TensorRange): TensorDiagnostic {
  const warnings: string[] = [];
  const growth = lateGrowth(m);
  const stillWidening = growth > LATE_GROWTH;
  if (stillWidening) warnings.push(`range still widening: the last 10% of samples added ${pct(growth)} of it; more calibration data would change it`);
  if (m.nonFinite > 0) warnings.push(`${m.nonFinite} NaN/Inf values (left out of the statistics)`);
  if (m.samples > 0 && m.min === m.max) warnings.push(`constant (${m.min}) over the whole calibration set`);
  const absmax = Math.max(Math.abs(m.min), Math.abs(m.max));
  if (h && h.binWidth > 0) {
    const p9999 = magnitudeQuantile(h, 0.9999);
    if (p9999 > 0 && absmax > OUTLIER_RATIO * p9999) warnings.push(`extreme outliers: max |x| = ${absmax.toPrecision(4)} is ${(absmax / p9999).toFixed(0)}x the 99.99th percentile of |x|`);
  } else if (m.std !== undefined && m.mean !== undefined && m.std > 0 && (absmax - Math.abs(m.mean)) / m.std > 50) {
    warnings.push(`extreme outliers: max |x| = ${absmax.toPrecision(4)} is ${((absmax - Math.abs(m.mean)) / m.std).toFixed(0)} standard deviations out`);
  }
  const clipped = h ? clippedFraction(h, range) : 0;
  if (clipped > HEAVY_CLIPPING) {
    warnings.push(`the range clips ${pct(clipped)} of the values seen; if that is not intended try --method mse or percentile (entropy calibration clips hard around point masses such as image backgrounds)`);
  }
  return { tensor: m.tensor, range, observed: { min: m.min, max: m.max }, clippedFraction: clipped, stillWidening, warnings };
}

/** Warnings about the calibration set as a whole. */
export function diagnoseSet(samples: number, batches: number, stats: readonly MinMaxStat[]): string[] {
  const out: string[] = [];
  if (samples < SMALL_SET) out.push(`only ${samples} calibration samples; ranges from fewer than ${SMALL_SET} are unreliable (100-1000 representative samples is typical)`);
  // If nothing widened after the first batch, the samples are likely (near) copies of each other.
  if (batches >= 4 && stats.length > 0 && stats.every((m) => m.widenings.length <= 1)) {
    out.push('no tensor range changed after the first batch: the calibration samples look (nearly) identical; use varied, representative data');
  }
  const widening = stats.filter((m) => lateGrowth(m) > LATE_GROWTH).length;
  if (stats.length > 0 && widening / stats.length > 0.25) {
    out.push(`${widening} of ${stats.length} tensor ranges still widened in the last 10% of samples; more calibration data would give more stable ranges`);
  }
  return out;
}
