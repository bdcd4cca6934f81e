/**
 * Paired timing of candidates against a reference model (float32): each candidate alternates with
 * the reference, in batches of fresh sessions, until the answer is settled or the time budget is
 * spent. Used by the placement search, and by every search that must pick "the fastest" (the
 * accuracy budget, pruning).
 */
import type { Model } from '../ir/model.js';
import type { Engine } from '../runtime/engine.js';
import type { Feeds, Session } from '../runtime/types.js';
import { measureSessionTimes } from './latency.js';
import { MARGIN, clearlyFaster, ratioStats, type RatioStats } from './latency-decision.js';

/** Time given to the paired timing of all candidates (at most). */
export const TIMING_BUDGET_MS = 3000;
/** Paired rounds: at least this many, then checked every ROUND_CHUNK whether the answer is settled. */
export const MIN_ROUNDS = 20;
export const ROUND_CHUNK = 10;
/**
 * A plain answer may stop the timing after the first ROUND_CHUNK rounds: int8 at least 1.25x
 * faster than float, or 10% slower, across the whole 95% interval (10 rounds: the 2nd and 9th
 * ratios, 98% coverage). Only closer calls need MIN_ROUNDS; on ResNet-50 (3x) this halves the
 * timing.
 */
export const plainAnswer = (s: RatioStats) => s.high <= 0.8 || s.low >= 1.1;
/**
 * Time one candidate's rounds may take when a run takes long (a megapixel model runs for seconds):
 * its rounds are capped at this, but at least MIN_SLOW_ROUNDS. Fewer rounds widen the ratio's
 * interval, so a close call stays "not clearly faster"; a 2x speed-up is still plain.
 */
export const SLOW_CANDIDATE_MS = 15_000;
export const MIN_SLOW_ROUNDS = 6;
/** A warm-up run longer than this is warm-up enough. */
const SLOW_RUN_MS = 200;

/**
 * Paired rounds for one candidate when a round (reference + candidate) takes `roundMs`: `min`
 * before the answer may be settled, `max` at most. `minRounds` (default MIN_ROUNDS) applies while
 * it fits SLOW_CANDIDATE_MS; the timing budget may allow more rounds of small models.
 */
export function roundsFor(roundMs: number, candidates: number, minRounds = MIN_ROUNDS): { min: number; max: number } {
  const wanted = Math.max(MIN_SLOW_ROUNDS, Math.min(minRounds, Math.floor(SLOW_CANDIDATE_MS / Math.max(roundMs, 1e-3))));
  const max = Math.max(wanted, Math.min(200, Math.ceil(TIMING_BUDGET_MS / 2 / candidates / Math.max(roundMs, 1e-3))));
  return { min: Math.min(MIN_ROUNDS, wanted), max };
}

/**
 * The timing can stop early when more rounds cannot change the answer: no candidate can still be
 * faster than float (every interval reaches 1), or the fastest is clearly faster and its interval
 * lies entirely below every other's.
 */
export function settled(stats: RatioStats[]): boolean {
  if (stats.every((s) => s.low >= 1 - MARGIN)) return true;
  const ranked = [...stats].sort((a, b) => a.median - b.median);
  const [best, next] = ranked;
  return best !== undefined && clearlyFaster(best) && (next === undefined || best.high < next.low);
}

/**
 * Decides, from the open sessions of a first batch (`sessions[0]` the reference), which candidates
 * are worth timing (one entry per candidate); used to check accuracy on the sessions the timing
 * creates anyway rather than on sessions of their own (each costs about what a run of 10 does).
 */
export type Screen = (sessions: Session[]) => Promise<boolean[]>;

/**
 * One batch of paired rounds on fresh sessions (created in `models` order, or reversed). Each
 * candidate alternates with the float model on its own (float, candidate, float, ...), as a model
 * that runs again and again would: with every candidate in one round, each run found the caches
 * holding the other models, which penalized the float model and its 4x larger weights (the
 * Fashion-MNIST ResNet measured 1.2x faster in int8 that way, 0.97x alone). Up to half the timing
 * budget, stopping early once the answer is settled. Returns, per candidate, its times and the
 * float times of the same rounds (undefined for a candidate `screen` dropped).
 */
export async function timeBatch(engine: Engine, models: Model[], feeds: Feeds, reversed: boolean, signal: AbortSignal | undefined, minRounds = MIN_ROUNDS, screen?: Screen): Promise<({ float: number[]; times: number[] } | undefined)[]> {
  const order = models.map((_, i) => i);
  if (reversed) order.reverse();
  const sessions: (Session | undefined)[] = new Array(models.length);
  try {
    for (const i of order) sessions[i] = await engine.createSession(models[i]!, { intraOpThreads: 1, interOpThreads: 1 });
    const keep = screen ? await screen(sessions as Session[]) : models.slice(1).map(() => true);
    for (let c = 1; c < sessions.length; c++) {
      if (keep[c - 1]) continue;
      await sessions[c]!.release();
      sessions[c] = undefined;
    }
    const warm: number[] = [];
    for (const s of sessions) {
      if (!s) continue;
      const first = await s.time(feeds, 1);
      warm.push(Math.min(...first, ...(first[0]! > SLOW_RUN_MS ? [] : await s.time(feeds, 4))));
    }
    const timed = keep.filter(Boolean).length;
    const out: ({ float: number[]; times: number[] } | undefined)[] = [];
    for (let c = 1, w = 1; c < sessions.length; c++) {
      if (!sessions[c]) {
        out.push(undefined);
        continue;
      }
      const pair = [sessions[0]!, sessions[c]!];
      const rounds = roundsFor(warm[0]! + warm[w++]!, timed, minRounds);
      const float: number[] = [];
      const times: number[] = [];
      while (float.length < rounds.max) {
        const [f, t] = await measureSessionTimes(pair, feeds, { warmup: 0, runs: Math.min(ROUND_CHUNK, rounds.max - float.length), ...(signal ? { signal } : {}) });
        float.push(...f!);
        times.push(...t!);
        const stats = ratioStats(times, float);
        if ((float.length >= rounds.min && settled([stats])) || plainAnswer(stats)) break;
      }
      out.push({ float, times });
    }
    return out;
  } finally {
    for (const s of sessions) if (s) await s.release();
  }
}

/** Below this float run time, where a session's memory lands moves the time for good: two batches. */
export const SMALL_MODEL_MS = 5;

export interface PairedTiming {
  /** Candidates timed (indices into models[1..]): all of them, or those `screen` kept. The arrays below follow this order. */
  timed: number[];
  /** Per batch (one, or two for small models), per timed candidate: its times and the float times of the same rounds. */
  batches: { float: number[]; times: number[] }[][];
  /** Per timed candidate, the ratio statistics of its worse batch (higher median). */
  worse: RatioStats[];
  /** Per timed candidate, the median of its times over all batches (ms). */
  medianMs: number[];
  /** Every float time measured (ms). */
  floatTimes: number[];
}

/**
 * Candidates (`models[1..]`) against the reference (`models[0]`): one batch of paired rounds, and
 * when the reference runs under SMALL_MODEL_MS (`floatRunMs`, or the first batch's median), a second
 * batch of fresh sessions created in the opposite order; each candidate is judged by its worse batch.
 * `minRounds`: rounds a candidate gets when its answer is not settled even if that overruns the
 * timing budget (large models, large timing batches). `screen`: which candidates to time, decided
 * on the first batch's sessions.
 */
export async function timePaired(engine: Engine, models: Model[], feeds: Feeds, signal: AbortSignal | undefined, floatRunMs?: number, minRounds = MIN_ROUNDS, screen?: Screen): Promise<PairedTiming> {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const first = await timeBatch(engine, models, feeds, false, signal, minRounds, screen);
  const timed = first.flatMap((b, c) => (b ? [c] : []));
  const batches = [timed.map((c) => first[c]!)];
  if (timed.length && (floatRunMs ?? median(batches[0]!.flatMap((c) => c.float))) < SMALL_MODEL_MS) {
    const again = await timeBatch(engine, [models[0]!, ...timed.map((c) => models[c + 1]!)], feeds, true, signal, minRounds);
    batches.push(again.map((b) => b!));
  }
  const worse = timed.map((_, k) => batches.map((b) => ratioStats(b[k]!.times, b[k]!.float)).reduce((a, b) => (b.median > a.median ? b : a)));
  const medianMs = timed.map((_, k) => median(batches.flatMap((b) => b[k]!.times)));
  return { timed, batches, worse, medianMs, floatTimes: batches.flatMap((b) => b.flatMap((c) => c.float)) };
}
