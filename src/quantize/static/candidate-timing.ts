/**
 * The plain float-vs-quantized measurement of a placement the user chose (the search's own paired
 * timing is src/tune/paired-timing.ts).
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds, Session } from '../../runtime/types.js';
import { measureSessionTimes } from '../../tune/latency.js';
import { ratioStats, type RatioStats } from '../../tune/latency-decision.js';
import { MIN_ROUNDS, ROUND_CHUNK, TIMING_BUDGET_MS } from '../../tune/paired-timing.js';
import { rejected, type Candidate, type LatencyCheck, type PlacementTiming } from './placement-search.js';

/** Width of the ratio's 95% interval, relative to the ratio, at which the timing stops. */
const PRECISE = 0.05;
/** True when the ratio is known well enough to stop timing (after 10 rounds at the earliest). */
export const preciseEnough = (r: RatioStats) => r.high - r.low <= PRECISE * r.median;

/**
 * Times the float and one quantized model: paired rounds, 10 at a time, until the ratio's 95%
 * interval is within 5% of it, or up to 400 rounds within about 2 s (MIN_ROUNDS however long a
 * round takes).
 */
export async function measureLatency(pre: Model, candidate: Candidate, engine: Engine, feeds: Feeds): Promise<LatencyCheck> {
  const sessions: Session[] = [];
  try {
    return await timeTwo();
  } catch (err) {
    return rejected(err);
  } finally {
    for (const s of sessions) await s.release();
  }
  async function timeTwo(): Promise<LatencyCheck> {
    for (const m of [pre, candidate.model]) sessions.push(await engine.createSession(m, { intraOpThreads: 1, interOpThreads: 1 }));
    let roundMs = 0;
    for (const s of sessions) roundMs += Math.min(...await s.time(feeds, 5));
    const maxRuns = Math.max(MIN_ROUNDS, Math.min(400, Math.ceil((TIMING_BUDGET_MS * 2) / 3 / Math.max(roundMs, 1e-3))));
    const f: number[] = [];
    const q: number[] = [];
    while (f.length < maxRuns) {
      const [fs, qs] = await measureSessionTimes(sessions, feeds, { warmup: 0, runs: Math.min(ROUND_CHUNK, maxRuns - f.length) });
      f.push(...fs!);
      q.push(...qs!);
      if (preciseEnough(ratioStats(q, f))) break;
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const timing: PlacementTiming = { label: candidate.label, medianMs: median(q), ratio: ratioStats(q, f) };
    return { floatMs: median(f), quantizedMs: timing.medianMs, speedup: median(f) / timing.medianMs, candidates: [timing], chosen: candidate.label, runs: f.length };
  }
}

