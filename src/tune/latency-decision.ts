/**
 * Deciding "faster than float" from interleaved timings so that noise cannot flip the answer. Runs
 * are paired: round r times the float model and every candidate back to back, so the per-round
 * ratio candidate/float cancels what the machine did during that round. A candidate counts as
 * faster only when the median ratio is at least MARGIN below 1 and the upper end of its 95%
 * confidence interval (distribution-free, from order statistics) is below 1.
 */

/** int8 must save at least 3%: less is not worth its rounding error. */
export const MARGIN = 0.03;
/** Among candidates within 1% of the fastest, the one that quantizes fewer nodes wins (less error). */
export const TIE = 0.01;

export interface RatioStats {
  /** Median of candidate/float over the paired rounds. */
  median: number;
  /** 95% confidence interval of that median. */
  low: number;
  high: number;
  rounds: number;
}

/** Median ratio and its 95% CI: the order statistics n/2 -+ 0.98 sqrt(n) of the sorted ratios. */
export function ratioStats(candidate: readonly number[], reference: readonly number[]): RatioStats {
  const n = Math.min(candidate.length, reference.length);
  const r = Array.from({ length: n }, (_, i) => candidate[i]! / reference[i]!).sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 ? r[mid]! : (r[mid - 1]! + r[mid]!) / 2;
  const k = Math.max(0, Math.floor(n / 2 - 0.98 * Math.sqrt(n)));
  return { median, low: r[k]!, high: r[Math.min(n - 1, n - 1 - k)]!, rounds: n };
}

export interface Contender {
  stats: RatioStats;
  /** Nodes computed in int8 (fewer = less rounding error). */
  quantized: number;
}

/** Clearly faster than the reference: MARGIN below it and the CI entirely below 1. */
export const clearlyFaster = (s: RatioStats): boolean => s.median <= 1 - MARGIN && s.high < 1;

/**
 * The index of the contender to keep: among the clearly faster ones, the fastest, or one that
 * quantizes fewer nodes within TIE of it; -1 when none is clearly faster than the reference.
 */
export function pickFastest(contenders: readonly Contender[]): number {
  const ok = contenders.map((c, i) => ({ c, i })).filter(({ c }) => clearlyFaster(c.stats));
  if (!ok.length) return -1;
  const best = Math.min(...ok.map(({ c }) => c.stats.median));
  const near = ok.filter(({ c }) => c.stats.median <= best * (1 + TIE));
  near.sort((a, b) => a.c.quantized - b.c.quantized || a.c.stats.median - b.c.stats.median);
  return near[0]!.i;
}
