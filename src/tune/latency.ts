/**
 * Latency measured the way comparisons need it: all models warmed up, then run in turn (A, B, C,
 * B, C, A, ...) so that clock drift, thermal state and neighbours hit every model equally.
 */
import type { Model } from '../ir/model.js';
import { Engine } from '../runtime/engine.js';
import type { Feeds, Session, SessionOptions } from '../runtime/types.js';
import { throwIfAborted } from '../errors.js';
import type { ProgressListener } from '../progress.js';

export interface LatencyStats {
  runs: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
}

export interface InterleavedOptions {
  /** Warm-up runs per model before measuring (default 10). */
  warmup?: number;
  /** Measured runs per model (default 50). */
  runs?: number;
  /** Session options; benchmarks default to 1 intra-op thread for stable numbers. */
  session?: SessionOptions;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Time the default timed runs of one model may take: a megapixel model runs for seconds, 50 runs of it for minutes. */
export const RUNS_BUDGET_MS = 30_000;
const MIN_BUDGET_RUNS = 5;

/**
 * Warm-up and timed runs for a model whose (first) run took `slowestMs`: the defaults, or, when
 * they would take over RUNS_BUDGET_MS, fewer runs (at least 5) after a single warm-up; `note` says so.
 */
export function runsWithinBudget(slowestMs: number, defaults: { runs: number; warmup: number }): { runs: number; warmup: number; note?: string } {
  const runs = Math.max(MIN_BUDGET_RUNS, Math.min(defaults.runs, Math.floor(RUNS_BUDGET_MS / Math.max(slowestMs, 1e-3))));
  if (runs >= defaults.runs) return defaults;
  return { runs, warmup: 1, note: `${runs} timed runs per model, not ${defaults.runs}, after 1 warm-up: one run takes up to ${(slowestMs / 1000).toFixed(1)} s (--runs and --warmup to choose)` };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function latencyStats(times: number[]): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    runs: sorted.length,
    medianMs: median,
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    minMs: sorted[0]!,
  };
}

/** Measures each model on the same feeds, interleaved; returns stats in the order given. */
export async function measureInterleaved(models: (Model | string)[], feeds: Feeds | Feeds[], options: InterleavedOptions = {}): Promise<LatencyStats[]> {
  const engine = options.engine ?? new Engine({ signal: options.signal });
  const owned = !options.engine;
  const sessionOptions: SessionOptions = { intraOpThreads: 1, interOpThreads: 1, ...options.session };
  const sessions: Session[] = [];
  try {
    for (const m of models) sessions.push(await engine.createSession(m, sessionOptions));
    return await measureSessions(sessions, feeds, options);
  } finally {
    for (const s of sessions) await s.release();
    if (owned) await engine.close();
  }
}

/** The interleaved measurement on sessions the caller owns (warm-up, then A, B, C, A, B, C, ...). */
export async function measureSessions(sessions: Session[], feeds: Feeds | Feeds[], options: Pick<InterleavedOptions, 'warmup' | 'runs' | 'signal' | 'onProgress'> = {}): Promise<LatencyStats[]> {
  return (await measureSessionTimes(sessions, feeds, options)).map(latencyStats);
}

/** The same, returning every run's time (ms) per session, round by round (for paired comparisons). */
export async function measureSessionTimes(sessions: Session[], feeds: Feeds | Feeds[], options: Pick<InterleavedOptions, 'warmup' | 'runs' | 'signal' | 'onProgress'> = {}): Promise<number[][]> {
  const feedsFor = (i: number) => (Array.isArray(feeds) ? feeds[i]! : feeds);
  const warmup = options.warmup ?? 10;
  const runs = options.runs ?? 50;
  for (let i = 0; i < sessions.length; i++) await sessions[i]!.time(feedsFor(i), warmup);
  const times: number[][] = sessions.map(() => []);
  for (let r = 0; r < runs; r++) {
    throwIfAborted(options.signal, 'benchmark');
    // The order rotates every round: a model that always ran first (or right after a large one)
    // would carry a systematic cache or clock bias.
    for (let k = 0; k < sessions.length; k++) {
      const i = (k + r) % sessions.length;
      times[i]!.push((await sessions[i]!.time(feedsFor(i), 1))[0]!);
    }
    options.onProgress?.({ stage: 'benchmark', done: r + 1, total: runs });
  }
  return times;
}
