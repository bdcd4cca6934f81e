/** Paired latency of two models for the benchmark suites. */
import type { BenchContext } from '../types.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { measureInterleaved } from '../../src/tune/latency.js';

/**
 * Median latencies of two models, interleaved at 1 thread: at least 50 rounds, more for small
 * models (about 3 s of rounds, at most 400), in two batches of fresh sessions created in opposite
 * orders (where a session's memory lands can move a 0.1 ms model by 10% for good), averaged.
 */
export async function latency(ctx: BenchContext, a: Model, b: Model, feeds: Feeds, config?: Record<string, string>): Promise<[number, number]> {
  const session = { intraOpThreads: 1, interOpThreads: 1, ...(config ? { config } : {}) };
  const probe = await measureInterleaved([a, b], feeds, { engine: ctx.engine, runs: 3, warmup: 2, session });
  const round = probe[0]!.medianMs + probe[1]!.medianMs;
  const runs = ctx.quick ? 10 : Math.max(50, Math.min(400, Math.ceil(3000 / round))) >> 1;
  const opts = { engine: ctx.engine, runs: Math.max(runs, ctx.quick ? 5 : 25), warmup: ctx.quick ? 3 : 10, session };
  const [x1, y1] = await measureInterleaved([a, b], feeds, opts);
  const [y2, x2] = await measureInterleaved([b, a], feeds, opts);
  return [(x1!.medianMs + x2!.medianMs) / 2, (y1!.medianMs + y2!.medianMs) / 2];
}
