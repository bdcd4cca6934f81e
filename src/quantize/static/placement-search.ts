/**
 * `--placement auto`: builds the model under each placement profile (full, compute, weights) from
 * the same ranges, times each in ONNX Runtime next to the float model (interleaved runs, 1 thread,
 * batch of one calibration sample) and keeps the fastest. Within 3% of the fastest, the profile
 * that quantizes less wins, since it loses less accuracy. Profiles that plan the same nodes are
 * built and timed once.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses, CLEANUP_PASSES } from '../../ir/passes/index.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { TensorRange } from '../../calibrate/types.js';
import { measureInterleaved } from '../../eval/latency.js';
import { CancelledError, RuntimeError, errorMessage } from '../../errors.js';
import { PLACEMENT_PROFILES, type Placement, type ResolvedStaticOptions } from './options.js';
import { planStatic } from './planner.js';
import { applyQdqPlan } from './apply-qdq.js';
import { lowerIntegerForms, lowerToQOperator } from './qoperator.js';
import type { QuantPlan } from './plan.js';

export interface Candidate {
  placement: Exclude<Placement, 'auto'>;
  plan: QuantPlan;
  model: Model;
}

export interface PlacementTiming {
  placement: Exclude<Placement, 'auto'>;
  medianMs: number;
}

export interface LatencyCheck {
  /** Median latency of the float model (ms, batch 1, 1 thread). */
  floatMs: number;
  /** Median latency of the chosen quantized model. */
  quantizedMs: number;
  speedup: number;
  /** Every profile timed (auto placement), in the order built. */
  candidates: PlacementTiming[];
  chosen: Exclude<Placement, 'auto'>;
  runs: number;
}

function rejected(err: unknown): never {
  if (err instanceof CancelledError) throw err;
  throw new RuntimeError(`ONNX Runtime could not run the quantized model (${errorMessage(err)}); nothing was written. Please report this with the model and options`);
}

/** Plans and applies one placement profile. */
export function buildCandidate(pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, placement: Exclude<Placement, 'auto'>): Candidate {
  const plan = planStatic(pre, ranges, { ...opts, placement });
  const model = cloneModel(pre);
  applyQdqPlan(model, plan);
  if (opts.format === 'qoperator') lowerToQOperator(model);
  // int8 activations must stay as Q -> DQ pairs for ORT's x86 rewrite to uint8, so only uint8 gets this.
  else if (opts.activations === 'uint8') lowerIntegerForms(model);
  runPasses(model, CLEANUP_PASSES);
  return { placement, plan, model };
}

const planKey = (p: QuantPlan) => p.nodes.map((n) => `${n.node}:${n.action}`).join('|');

/** Quantized node count: fewer means less rounding error. */
const quantizedCount = (p: QuantPlan) => p.nodes.filter((n) => n.action === 'quantize').length;

export async function searchPlacement(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, feeds: Feeds, options: { runs?: number; signal?: AbortSignal } = {},
): Promise<{ chosen: Candidate; latency: LatencyCheck }> {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const placement of PLACEMENT_PROFILES) {
    const c = buildCandidate(pre, ranges, opts, placement);
    const key = planKey(c.plan);
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push(c);
  }
  const runs = options.runs ?? 20;
  const stats = await measureInterleaved([pre, ...candidates.map((c) => c.model)], feeds, {
    engine, runs, warmup: 5, session: { intraOpThreads: 1, interOpThreads: 1 }, ...(options.signal ? { signal: options.signal } : {}),
  }).catch(rejected);
  const timings = candidates.map((c, i) => ({ c, ms: stats[i + 1]!.medianMs }));
  const best = Math.min(...timings.map((t) => t.ms));
  const nearBest = timings.filter((t) => t.ms <= best * 1.03).sort((a, b) => quantizedCount(a.c.plan) - quantizedCount(b.c.plan));
  const chosen = nearBest[0]!;
  const floatMs = stats[0]!.medianMs;
  return {
    chosen: chosen.c,
    latency: {
      floatMs,
      quantizedMs: chosen.ms,
      speedup: floatMs / chosen.ms,
      candidates: timings.map((t) => ({ placement: t.c.placement, medianMs: t.ms })),
      chosen: chosen.c.placement,
      runs,
    },
  };
}

/** Times the float and one quantized model (placement chosen by the user). */
export async function measureLatency(pre: Model, candidate: Candidate, engine: Engine, feeds: Feeds, runs = 20): Promise<LatencyCheck> {
  const [f, q] = await measureInterleaved([pre, candidate.model], feeds, { engine, runs, warmup: 5, session: { intraOpThreads: 1, interOpThreads: 1 } }).catch(rejected);
  return { floatMs: f!.medianMs, quantizedMs: q!.medianMs, speedup: f!.medianMs / q!.medianMs, candidates: [{ placement: candidate.placement, medianMs: q!.medianMs }], chosen: candidate.placement, runs };
}
