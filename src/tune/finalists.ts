/**
 * Choosing for speed among variants that are all faster than float, without letting timing noise
 * decide. Timed each against float, near-equal variants swap places run to run (the PaddleOCR
 * recognizer's compute-with-1-layer-float and compute-with-3 at 0.76x and 0.87x float, 95%
 * intervals reaching 0.97 and 1.12), and whichever timed fastest set which others counted as
 * "the same speed". Here the finalists are compared with each other directly instead: the most
 * preferred one (smallest drop, then size, then fewest layers kept float, then label: all fixed
 * by data, not by timing) is the reference; every other is timed against it in paired rounds and
 * beats it only when clearly faster (median MARGIN below 1 and the 95% interval below 1). When none
 * does, the reference is the answer; otherwise the ones that did are the next round's finalists.
 * A gap inside the measured noise band therefore never overturns the order the data gives.
 */
import type { RatioStats } from './latency-decision.js';
import { clearlyFaster } from './latency-decision.js';
import type { VariantRecord } from './variants.js';

/** The order among variants the timing cannot tell apart: smaller drop, smaller file, fewer layers kept float, label. */
export function byPreference(a: VariantRecord, b: VariantRecord): number {
  return a.drop - b.drop || a.sizeBytes - b.sizeBytes || a.keptFloat - b.keptFloat || a.label.localeCompare(b.label);
}

/** One finalist timed against the round's reference: its time over the reference's, paired rounds. */
export interface Duel {
  challenger: string;
  reference: string;
  stats: RatioStats;
}

/**
 * One round, a pure function of its measurements: `stats[i]` is `challengers[i]` over `reference`.
 * Returns the winner when no challenger is clearly faster than the reference, else the challengers
 * that are (the finalists of the next round).
 */
export function finalsRound(reference: VariantRecord, challengers: readonly VariantRecord[], stats: readonly RatioStats[]): { winner: VariantRecord } | { finalists: VariantRecord[] } {
  const faster = challengers.filter((_, i) => clearlyFaster(stats[i]!));
  return faster.length ? { finalists: faster } : { winner: reference };
}

/**
 * The finals: rounds until a reference is not clearly beaten (at most one round per finalist, each
 * round drops the reference). `time(reference, challengers)` measures each challenger over the
 * reference. Returns the winner and every comparison made, for the report.
 */
export async function decideFinals(
  finalists: readonly VariantRecord[],
  time: (reference: VariantRecord, challengers: VariantRecord[]) => Promise<RatioStats[]>,
): Promise<{ winner: VariantRecord; duels: Duel[] }> {
  let pool = [...finalists].sort(byPreference);
  const duels: Duel[] = [];
  for (;;) {
    const [reference, ...challengers] = pool;
    if (!reference) throw new Error('decideFinals: no finalists');
    if (!challengers.length) return { winner: reference, duels };
    const stats = await time(reference, challengers);
    challengers.forEach((c, i) => duels.push({ challenger: c.label, reference: reference.label, stats: stats[i]! }));
    const round = finalsRound(reference, challengers, stats);
    if ('winner' in round) return { winner: round.winner, duels };
    pool = round.finalists.sort(byPreference);
  }
}
