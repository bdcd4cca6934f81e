/**
 * Every variant a search tries, kept with what it costs (accuracy drop, latency, size), and the
 * decisions on top of them: which are inside the budget, the Pareto front, and the one to keep
 * for a preference. Shared by the accuracy-budget search of quantization and by pruning.
 */

export type Preference = 'speed' | 'size' | 'accuracy';
export const PREFERENCES: readonly Preference[] = ['speed', 'size', 'accuracy'];

export interface VariantRecord {
  label: string;
  /** Accuracy drop against the reference (positive = worse), in the evaluator's units. */
  drop: number;
  /** The metric's value for this variant. */
  score: number;
  /** Size of the written model, bytes. */
  sizeBytes: number;
  /** Latency relative to the float model (candidate / float, median of paired rounds), when timed. */
  latencyRatio?: number;
  /** Upper end of the ratio's 95% interval, when timed. */
  latencyRatioHigh?: number;
  /** Lower end of the ratio's 95% interval, when timed. */
  latencyRatioLow?: number;
  /** Median latency, ms (at the search's timing batch), when timed. */
  latencyMs?: number;
  /** Nodes kept in float (or higher precision) on top of the placement. */
  keptFloat: number;
  withinBudget: boolean;
}

/** Variants no other variant beats on drop, latency and size at once (untimed variants compare on drop and size). */
export function paretoFront(variants: readonly VariantRecord[]): VariantRecord[] {
  const lat = (v: VariantRecord) => v.latencyRatio ?? Infinity;
  const dominates = (a: VariantRecord, b: VariantRecord) =>
    a.drop <= b.drop && lat(a) <= lat(b) && a.sizeBytes <= b.sizeBytes && (a.drop < b.drop || lat(a) < lat(b) || a.sizeBytes < b.sizeBytes);
  return variants.filter((v) => !variants.some((w) => w !== v && dominates(w, v)));
}

import { MARGIN } from './latency-decision.js';

/** Latencies within 3% count as equal: closer than the timing can tell apart run to run. */
const SAME_SPEED = 0.03;

/**
 * Speed relative to float for choosing: a variant not clearly faster than float (by MARGIN, its
 * 95% interval below 1) counts as float speed, so noise never buys a less accurate variant; one
 * clearly slower (MARGIN above 1, its interval above 1 when known) keeps its ratio, so it loses to
 * float-speed variants (the ViT fixture's 'full', 0.56x float, was chosen over float compute for
 * its smaller drop when every slower variant counted as float speed).
 */
export function effectiveRatio(v: VariantRecord): number {
  const r = v.latencyRatio ?? 1;
  if (r >= 1 + MARGIN && (v.latencyRatioLow ?? r) > 1) return r;
  return r <= 1 - MARGIN && (v.latencyRatioHigh ?? r) < 1 ? r : 1;
}

/**
 * Two variants run at the same speed when their effective ratios are within SAME_SPEED, or when
 * both have medians below float and their 95% intervals overlap: the timing cannot tell them apart
 * (whether one of them is also "clearly faster" than float is noise at the edge), so the next
 * criterion decides. On the busy 2-core machine the ViT fixture's compute and weights placements,
 * both ~1.1-1.2x at batch 32, swapped places run to run on the 3% rule alone.
 */
function sameSpeed(a: VariantRecord, b: VariantRecord): boolean {
  const [ra, rb] = [effectiveRatio(a), effectiveRatio(b)];
  if (Math.abs(ra - rb) <= SAME_SPEED * Math.min(ra, rb)) return true;
  const [la, ha, lb, hb] = [a.latencyRatioLow, a.latencyRatioHigh, b.latencyRatioLow, b.latencyRatioHigh];
  if (la === undefined || ha === undefined || lb === undefined || hb === undefined) return false;
  return (a.latencyRatio ?? 1) < 1 && (b.latencyRatio ?? 1) < 1 && la <= hb && lb <= ha;
}

/**
 * The variant to keep among those inside the budget, for a preference; ties (speed within 3%,
 * equal size or drop) go to the next criterion, then to fewer nodes kept float, then to the label,
 * so the same measurements give the same answer.
 */
export function choose(variants: readonly VariantRecord[], prefer: Preference): VariantRecord | undefined {
  const inside = variants.filter((v) => v.withinBudget);
  if (!inside.length) return undefined;
  const lat = effectiveRatio;
  const bySpeed = (a: VariantRecord, b: VariantRecord) => (sameSpeed(a, b) ? 0 : lat(a) - lat(b));
  const bySize = (a: VariantRecord, b: VariantRecord) => a.sizeBytes - b.sizeBytes;
  const byDrop = (a: VariantRecord, b: VariantRecord) => a.drop - b.drop;
  const sorted = (vs: VariantRecord[], order: ((a: VariantRecord, b: VariantRecord) => number)[]) => [...vs].sort((a, b) => {
    for (const f of order) {
      const d = f(a, b);
      if (d !== 0) return d;
    }
    return a.keptFloat - b.keptFloat || a.label.localeCompare(b.label);
  });
  if (prefer === 'speed') {
    // The fastest, then every variant the timing cannot tell from it; among those, drop and size
    // decide (two steps, so the answer does not depend on the order a sort meets them in).
    const fastest = sorted(inside, [(a, b) => lat(a) - lat(b), byDrop, bySize])[0]!;
    return sorted(inside.filter((v) => v === fastest || sameSpeed(v, fastest)), [byDrop, bySize])[0];
  }
  return sorted(inside, prefer === 'size' ? [bySize, bySpeed, byDrop] : [byDrop, bySpeed, bySize])[0];
}

/**
 * The smallest k in [lo, hi] for which `fits(k)` holds, assuming it holds for every k above the
 * first that does (more layers kept precise, less error); `fits(hi)` is assumed true. About
 * log2(hi - lo) calls.
 */
export async function smallestFitting(lo: number, hi: number, fits: (k: number) => Promise<boolean>): Promise<number> {
  if (await fits(lo)) return lo;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
