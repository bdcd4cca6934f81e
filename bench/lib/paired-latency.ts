/** Paired latency of two (or more) models for the benchmark suites. */
import type { BenchContext } from '../types.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { measureInterleaved } from '../../src/tune/latency.js';

/**
 * Median latencies of models interleaved at 1 thread: at least 50 rounds, more for small models
 * (about 3 s of rounds, at most 400), in two batches of fresh sessions created in opposite orders
 * (where a session's memory lands can move a 0.1 ms model by 10% for good), averaged.
 */
export async function latencies(ctx: BenchContext, models: (Model | string)[], feeds: Feeds, config?: Record<string, string>): Promise<number[]> {
  const session = { intraOpThreads: 1, interOpThreads: 1, ...(config ? { config } : {}) };
  const probe = await measureInterleaved(models, feeds, { engine: ctx.engine, runs: 3, warmup: 2, session });
  const round = probe.reduce((s, p) => s + p.medianMs, 0);
  const runs = ctx.quick ? 10 : Math.max(50, Math.min(400, Math.ceil(3000 / round))) >> 1;
  const opts = { engine: ctx.engine, runs: Math.max(runs, ctx.quick ? 5 : 25), warmup: ctx.quick ? 3 : 10, session };
  const forward = await measureInterleaved(models, feeds, opts);
  const backward = (await measureInterleaved([...models].reverse(), feeds, opts)).reverse();
  return forward.map((f, i) => (f.medianMs + backward[i]!.medianMs) / 2);
}

/** `latencies` of two models. */
export async function latency(ctx: BenchContext, a: Model, b: Model, feeds: Feeds, config?: Record<string, string>): Promise<[number, number]> {
  const [x, y] = await latencies(ctx, [a, b], feeds, config);
  return [x!, y!];
}
