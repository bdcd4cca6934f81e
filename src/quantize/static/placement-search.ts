/**
 * `--placement auto`: which parts of the model compute in int8, decided by measurement on this
 * machine (ONNX Runtime, 1 thread, batch of one calibration sample).
 *
 * 1. The int8 profiles (full, compute, weights) are planned from the same ranges.
 * 2. Per region (region-search.ts): ORT's profiler times each profile's model and the float
 *    model, node by node; a connected int8 region whose kernels plus its own Q/DQ and layout
 *    changes do not beat the same nodes in float goes back to float, and slow kernels at the edges
 *    of the others are peeled off: one more candidate per profile.
 * 3. The sessions that time the candidates first run each once: a candidate more than
 *    MAX_SQNR_LOSS_DB less accurate than the best is not timed. The others are timed against the
 *    float model in paired, alternating rounds (two batches of fresh sessions for small models),
 *    stopping early once more rounds cannot change the answer (paired-timing.ts); the fastest that
 *    is clearly faster than float (latency-decision.ts) wins. When none is, 'storage' is written
 *    (all float, constants stored as int8 and folded back by ORT at load): never slower than float.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses } from '../../ir/passes/index.js';
import { QUANTIZED_CLEANUP_PASSES } from '../cleanup.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds, Session } from '../../runtime/types.js';
import type { TensorRange } from '../../calibrate/types.js';
import { CancelledError, RuntimeError, errorMessage, throwIfAborted } from '../../errors.js';
import { PLACEMENT_PROFILES, type Placement, type ResolvedStaticOptions } from './options.js';
import type { PlanOverrides } from './planner.js';
import { planRecovered } from './recovery/plan-recovered.js';
import { applyQdqPlan } from './apply-qdq.js';
import { lowerIntegerForms, lowerToQOperator } from './qoperator.js';
import type { QuantPlan } from './plan.js';
import { profileNodes, type NodeProfile } from './node-profile.js';
import { regionalCandidate, type RegionDecision } from './region-search.js';
import { ACCURATE_DB, MAX_SQNR_LOSS_DB, accurateEnough } from './candidate-fidelity.js';
import { sessionOutputs, sqnrAgainst } from '../../tune/output-fidelity.js';
import { MARGIN, pickFastest, type RatioStats } from '../../tune/latency-decision.js';
import { measureLatency } from './candidate-timing.js';
import { timePaired } from '../../tune/paired-timing.js';

export type ConcretePlacement = Exclude<Placement, 'auto'>;

export interface Candidate {
  placement: ConcretePlacement;
  /** 'full', 'compute, 3 of 12 regions float', 'storage', ... */
  label: string;
  plan: QuantPlan;
  model: Model;
  /** Nodes a search kept in float on top of the placement, with the reason (a decision to replay). */
  forceFloat: ReadonlyMap<string, string>;
}

export interface PlacementTiming {
  label: string;
  medianMs: number;
  /** Output SQNR against the float model on the timing sample (dB). */
  sqnrDb?: number;
  /** Paired ratio to float (median and 95% interval). */
  ratio?: RatioStats;
}

export interface LatencyCheck {
  /** Median latency of the float model (ms, 1 thread, `batch` samples per run). */
  floatMs: number;
  /** Samples per timed run (--timing-batch; 1 when absent). */
  batch?: number;
  /** Median latency of the chosen quantized model. */
  quantizedMs: number;
  speedup: number;
  /** Every candidate timed, in the order built. */
  candidates: PlacementTiming[];
  chosen: string;
  runs: number;
  /** Candidates not timed: more than MAX_SQNR_LOSS_DB less accurate than the most accurate one. */
  inaccurate?: { label: string; sqnrDb: number }[];
  /** Regions measured by the search (auto placement), for every profile. */
  regions?: RegionDecision[];
  /** Why the chosen candidate won (or why nothing computes in int8). */
  verdict?: string;
}

/** Time given to each node profile. */
const PROFILE_BUDGET_MS = 600;

export function rejected(err: unknown): never {
  if (err instanceof CancelledError) throw err;
  throw new RuntimeError(`ONNX Runtime could not run the quantized model (${errorMessage(err)}); nothing was written. Please report this with the model and options`);
}

/** Plans and applies one placement profile (with the search's forced-float nodes). */
export function buildCandidate(pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, placement: ConcretePlacement, overrides: PlanOverrides = {}, label: string = placement): Candidate {
  // Bias correction (recovery/) depends on the weights this placement quantizes.
  const { base, plan } = planRecovered(pre, ranges, { ...opts, placement }, overrides);
  const model = cloneModel(base);
  applyQdqPlan(model, plan);
  if (opts.format === 'qoperator') lowerToQOperator(model);
  // int8 activations must stay as Q -> DQ pairs for ORT's x86 rewrite to uint8, so only uint8 gets this.
  else if (opts.activations === 'uint8') lowerIntegerForms(model);
  runPasses(model, QUANTIZED_CLEANUP_PASSES);
  return { placement, label, plan, model, forceFloat: overrides.forceFloat ?? new Map() };
}

const planKey = (p: QuantPlan) => p.nodes.map((n) => `${n.node}:${n.action}`).join('|');
/** Quantized node count: fewer means less rounding error. */
const quantizedCount = (p: QuantPlan) => p.nodes.filter((n) => n.action === 'quantize').length;

interface SearchOptions {
  signal?: AbortSignal;
}

export async function searchPlacement(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, feeds: Feeds, options: SearchOptions = {},
): Promise<{ chosen: Candidate; latency?: LatencyCheck }> {
  let candidates: Candidate[] = [];
  const seen = new Set<string>();
  const add = (c: Candidate | undefined) => {
    if (!c || seen.has(planKey(c.plan))) return;
    seen.add(planKey(c.plan));
    candidates.push(c);
  };
  for (const placement of PLACEMENT_PROFILES) add(buildCandidate(pre, ranges, opts, placement));
  const bases = [...candidates];
  if (!bases.some((c) => quantizedCount(c.plan) > 0)) return { chosen: bases[0]! };

  // Step 2: per-region costs from ORT's profiler (onnxruntime-web has none: whole candidates only).
  const decisions: RegionDecision[] = [];
  let floatProfile: NodeProfile | undefined;
  for (const base of engine.runtime === 'wasm' ? [] : bases) {
    throwIfAborted(options.signal, 'quantization');
    if (quantizedCount(base.plan) === 0) continue;
    floatProfile ??= await profileNodes(engine, pre, feeds, { budgetMs: PROFILE_BUDGET_MS }).catch(rejected);
    add(await regionalCandidate(pre, ranges, opts, engine, feeds, base, floatProfile, floatProfile.runs, decisions));
  }
  // Without a profile, the timing measures the float model's run time itself.
  const floatRunMs = floatProfile?.runMs;
  // Step 3: each candidate alternates with the float model (timeBatch). Where a session's memory
  // landed moves a small model's time by several percent for good: under 5 ms, two batches of
  // fresh sessions created in opposite orders, and a candidate must win in both. 'storage' is the
  // float graph once ORT has folded its Cast/Mul pairs: float's own times stand for it here; it is
  // built and timed only when chosen.
  throwIfAborted(options.signal, 'quantization');
  // Speed may only choose among candidates about as accurate as the best one: their output SQNR,
  // from the sessions the timing opens anyway.
  let sqnr: number[] = [];
  const screen = async (sessions: Session[]) => {
    const float = await sessionOutputs(sessions[0]!, [feeds]);
    for (const s of sessions.slice(1)) sqnr.push(sqnrAgainst(float, await sessionOutputs(s, [feeds])));
    const best = Math.max(...sqnr);
    return sqnr.map((x) => accurateEnough(x, best));
  };
  const { timed, batches, worse, medianMs, floatTimes } = await timePaired(engine, [pre, ...candidates.map((c) => c.model)], feeds, options.signal, floatRunMs, undefined, screen).catch(rejected);
  const bestSqnr = Math.max(...sqnr);
  const inaccurate = candidates.map((c, i) => ({ label: c.label, sqnrDb: sqnr[i]! })).filter((c) => !accurateEnough(c.sqnrDb, bestSqnr));
  candidates = timed.map((i) => candidates[i]!);
  sqnr = timed.map((i) => sqnr[i]!);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  // Each candidate is judged by its worse batch.
  const timings: PlacementTiming[] = candidates.map((c, i) => ({ label: c.label, medianMs: medianMs[i]!, sqnrDb: sqnr[i]!, ratio: worse[i]! }));
  const contenders = candidates.map((c, i) => ({ stats: timings[i]!.ratio!, quantized: quantizedCount(c.plan) }));
  const pick = pickFastest(contenders);
  const storage = pick >= 0 ? undefined : buildCandidate(pre, ranges, opts, 'storage');
  if (storage) {
    // Say why, on every node that would have had an int8 kernel.
    for (const n of storage.plan.nodes) n.detail = n.detail.replace("placement 'storage': computes in float", 'no int8 placement measured faster than float32 here (see the placement note)');
  }
  const chosen = pick >= 0 ? candidates[pick]! : storage!;
  const best = timings.reduce((a, b) => (b.ratio!.median < a.ratio!.median ? b : a));
  // Float against the chosen model, from one measurement.
  let floatMs = median(floatTimes);
  const rounds = floatTimes.length;
  let quantizedMs = timings[pick]?.medianMs ?? 0;
  const chosenTiming = timings[pick];
  if (pick < 0) {
    const own = await measureLatency(pre, storage!, engine, feeds);
    timings.push(own.candidates[0]!);
    ({ floatMs, quantizedMs } = own);
  }
  const dropped = inaccurate.length ? `; not considered, more than ${MAX_SQNR_LOSS_DB} dB less accurate than the best (${bestSqnr.toFixed(1)} dB output SQNR) and under ${ACCURATE_DB} dB: ${inaccurate.map((c) => `${c.label} ${c.sqnrDb.toFixed(1)} dB`).join(', ')}` : '';
  const fidelity = chosenTiming ? `, output SQNR ${chosenTiming.sqnrDb!.toFixed(1)} dB${chosenTiming.sqnrDb! < bestSqnr - 1 ? ` (most accurate candidate: ${bestSqnr.toFixed(1)} dB)` : ''}` : '';
  const verdict = chosenTiming
    ? `${chosen.label}: ${(1 / chosenTiming.ratio!.median).toFixed(2)}x float32 (95% interval ${(1 / chosenTiming.ratio!.high).toFixed(2)}-${(1 / chosenTiming.ratio!.low).toFixed(2)}x${batches.length > 1 ? ' in the worse of two batches of fresh sessions' : ''}; ${rounds} paired runs${fidelity})${dropped}`
    : `no int8 placement was clearly faster than float32 here (best: ${best.label} at ${(1 / best.ratio!.median).toFixed(2)}x, 95% interval ${(1 / best.ratio!.high).toFixed(2)}-${(1 / best.ratio!.low).toFixed(2)}x over ${rounds} paired runs; int8 must win by ${Math.round(MARGIN * 100)}%): wrote float compute with int8-stored constants${dropped}`;
  return {
    chosen,
    latency: {
      floatMs,
      quantizedMs,
      speedup: floatMs / quantizedMs,
      candidates: timings,
      chosen: chosen.label,
      runs: rounds,
      ...(decisions.length ? { regions: decisions } : {}),
      ...(inaccurate.length ? { inaccurate } : {}),
      verdict,
    },
  };
}
