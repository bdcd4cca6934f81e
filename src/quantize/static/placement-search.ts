/**
 * `--placement auto`: which parts of the model compute in int8, decided by measurement on this
 * machine (ONNX Runtime, 1 thread, batch of one calibration sample).
 *
 * 1. The int8 profiles (full, compute, weights) are planned from the same ranges.
 * 2. Per region (regions.ts): ORT's profiler times each profile's model and the float model, node
 *    by node; a connected int8 region whose kernels plus its own Q/DQ and layout changes do not beat
 *    the same nodes in float by REGION_MARGIN goes back to float (region-costs.ts). The kept
 *    regions form one more candidate per profile.
 * 3. Every candidate, and 'storage' (all float, constants stored as int8), is timed against the
 *    float model in paired, interleaved rounds; the fastest that is clearly faster than float
 *    (latency-decision.ts) wins. When none is, 'storage' is written: never slower than float.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses, CLEANUP_PASSES } from '../../ir/passes/index.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds, Session } from '../../runtime/types.js';
import type { TensorRange } from '../../calibrate/types.js';
import { measureSessionTimes } from '../../eval/latency.js';
import { CancelledError, RuntimeError, errorMessage, throwIfAborted } from '../../errors.js';
import { PLACEMENT_PROFILES, type Placement, type ResolvedStaticOptions } from './options.js';
import { planStatic, type PlanOverrides } from './planner.js';
import { applyQdqPlan } from './apply-qdq.js';
import { lowerIntegerForms, lowerToQOperator } from './qoperator.js';
import type { QuantPlan } from './plan.js';
import { planRegions, type Region } from './regions.js';
import { profileNodes, type NodeProfile } from './node-profile.js';
import { chargeCosts, labelQdqNodes, nodeKey, regionCosts } from './region-costs.js';
import type { Node } from '../../ir/node.js';
import { MARGIN, pickFastest, ratioStats, type RatioStats } from './latency-decision.js';

export type ConcretePlacement = Exclude<Placement, 'auto'>;

export interface Candidate {
  placement: ConcretePlacement;
  /** 'full', 'compute, 3 of 12 regions float', 'storage', ... */
  label: string;
  plan: QuantPlan;
  model: Model;
}

export interface PlacementTiming {
  label: string;
  medianMs: number;
  /** Paired ratio to float (median and 95% interval). */
  ratio?: RatioStats;
}

/** One int8 region's measured cost (ms per run, ORT profiler) and what the search did with it. */
export interface RegionDecision {
  profile: ConcretePlacement;
  nodes: string[];
  int8Ms: number;
  floatMs: number;
  kept: boolean;
}

export interface LatencyCheck {
  /** Median latency of the float model (ms, batch 1, 1 thread). */
  floatMs: number;
  /** Median latency of the chosen quantized model. */
  quantizedMs: number;
  speedup: number;
  /** Every candidate timed, in the order built. */
  candidates: PlacementTiming[];
  chosen: string;
  runs: number;
  /** Regions measured by the search (auto placement), for every profile. */
  regions?: RegionDecision[];
  /** Why the chosen candidate won (or why nothing computes in int8). */
  verdict?: string;
}

/** An int8 region must save at least 5% of the same nodes' float time to stay. */
export const REGION_MARGIN = 0.05;
/** Time given to the paired timing of all candidates, and to each node profile. */
const TIMING_BUDGET_MS = 3000;
const PROFILE_BUDGET_MS = 600;

function rejected(err: unknown): never {
  if (err instanceof CancelledError) throw err;
  throw new RuntimeError(`ONNX Runtime could not run the quantized model (${errorMessage(err)}); nothing was written. Please report this with the model and options`);
}

/** Plans and applies one placement profile (with the search's forced-float nodes). */
export function buildCandidate(pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, placement: ConcretePlacement, overrides: PlanOverrides = {}, label: string = placement): Candidate {
  const plan = planStatic(pre, ranges, { ...opts, placement }, overrides);
  const model = cloneModel(pre);
  applyQdqPlan(model, plan);
  if (opts.format === 'qoperator') lowerToQOperator(model);
  // int8 activations must stay as Q -> DQ pairs for ORT's x86 rewrite to uint8, so only uint8 gets this.
  else if (opts.activations === 'uint8') lowerIntegerForms(model);
  runPasses(model, CLEANUP_PASSES);
  return { placement, label, plan, model };
}

const planKey = (p: QuantPlan) => p.nodes.map((n) => `${n.node}:${n.action}`).join('|');
/** Quantized node count: fewer means less rounding error. */
const quantizedCount = (p: QuantPlan) => p.nodes.filter((n) => n.action === 'quantize').length;
const us = (ms: number) => `${(ms * 1000).toFixed(ms < 0.01 ? 1 : 0)} us`;

interface SearchOptions {
  signal?: AbortSignal;
}

async function medianRunMs(engine: Engine, model: Model, feeds: Feeds): Promise<number> {
  const s = await engine.createSession(model, { intraOpThreads: 1, interOpThreads: 1 });
  try {
    const t = (await s.time(feeds, 4)).slice(1).sort((a, b) => a - b);
    return t[1]!;
  } finally {
    await s.release();
  }
}

/**
 * Nodes at the edge of a kept region (reading only float tensors, or read only by float nodes)
 * whose own int8 kernel does not beat their float kernel: reverting one moves a Q/DQ pair by one
 * node and saves the slow kernel (a first convolution over one or three channels is the usual
 * case). Repeats as the edge moves.
 */
function peelEdges(pre: Model, region: Region, inRegion: Set<string>, own: (n: string) => [number, number]): string[] {
  const byName = new Map<string, Node>();
  for (const n of pre.graph.allNodes()) byName.set(n.name, n);
  const compute = new Set(region.compute);
  // Whether int8 compute of the region is reachable through the region's shared/folded nodes.
  const reaches = (n: Node, dir: 'up' | 'down', seen = new Set<Node>()): boolean => {
    const next = dir === 'up'
      ? n.inputs.map((v) => v?.producer ?? null).filter((p): p is Node => p !== null)
      : n.outputs.flatMap((o) => o.uses.map((u) => u.node));
    for (const m of next) {
      if (seen.has(m) || !inRegion.has(m.name)) continue;
      seen.add(m);
      if (compute.has(m.name) || reaches(m, dir, seen)) return true;
    }
    return false;
  };
  const peeled: string[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const name of region.compute) {
      if (!inRegion.has(name)) continue;
      const n = byName.get(name)!;
      const [i8, f] = own(name);
      if (f === 0 || i8 < f * (1 - REGION_MARGIN) || (reaches(n, 'up') && reaches(n, 'down'))) continue;
      inRegion.delete(name);
      compute.delete(name);
      peeled.push(name);
      changed = true;
    }
  }
  return peeled;
}

/**
 * Step 2 for one profile: its regions that lose to float, and the slow kernels at the edges of
 * the others, as forced-float nodes with the measured reason.
 */
async function regionalCandidate(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, feeds: Feeds,
  base: Candidate, floatProfile: NodeProfile, runs: number, decisions: RegionDecision[],
): Promise<Candidate | undefined> {
  const regions = planRegions(pre, base.plan);
  const labelled = cloneModel(base.model);
  labelQdqNodes(labelled);
  const int8Profile = await profileNodes(engine, labelled, feeds, runs).catch(rejected);
  const planned = (name: string) => regions.ofNode.has(name);
  const int8Costs = chargeCosts(int8Profile, pre, planned);
  const floatCosts = chargeCosts(floatProfile, pre, planned);
  const int8 = regionCosts(int8Costs, regions);
  const float = regionCosts(floatCosts, regions);
  const own = (n: string): [number, number] => [int8Costs.get(nodeKey(n)) ?? 0, floatCosts.get(nodeKey(n)) ?? 0];
  const forceFloat = new Map<string, string>();
  const source = `ORT profiler, ${int8Profile.runs} runs`;
  let reverted = 0;
  let peeledCount = 0;
  for (const r of regions.regions) {
    const [i, f] = [int8.get(r.id) ?? 0, float.get(r.id) ?? 0];
    // Nothing charged to the float side: no evidence, keep it (the whole-model timing still checks).
    const kept = f === 0 || i <= f * (1 - REGION_MARGIN);
    decisions.push({ profile: base.placement, nodes: r.nodes, int8Ms: i, floatMs: f, kept });
    if (kept) {
      const peeled = peelEdges(pre, r, new Set(r.nodes), own);
      for (const n of peeled) {
        const [a, b] = own(n);
        forceFloat.set(n, `measured slower in int8 here: its int8 kernel takes ${us(a)} vs ${us(b)} in float, at the edge of its int8 region (${source})`);
      }
      peeledCount += peeled.length;
      continue;
    }
    reverted++;
    const what = r.compute.length > 1 ? `its int8 region (${r.compute.length} int8 ops from ${r.compute[0]})` : 'its int8 group';
    const reason = `measured slower in int8 here: ${what} takes ${us(i)} with its Q/DQ vs ${us(f)} in float (${source})`;
    for (const n of r.nodes) forceFloat.set(n, reason);
  }
  if (reverted === regions.regions.length) return undefined; // all reverted: that is 'storage'
  if (!reverted && !peeledCount) return undefined;
  const parts = [reverted ? `${reverted} of ${regions.regions.length} regions float` : '', peeledCount ? `${peeledCount} edge node${peeledCount > 1 ? 's' : ''} float` : ''].filter(Boolean);
  return buildCandidate(pre, ranges, opts, base.placement, { forceFloat }, `${base.placement}, ${parts.join(', ')}`);
}

export async function searchPlacement(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, feeds: Feeds, options: SearchOptions = {},
): Promise<{ chosen: Candidate; latency?: LatencyCheck }> {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const add = (c: Candidate | undefined) => {
    if (!c || seen.has(planKey(c.plan))) return;
    seen.add(planKey(c.plan));
    candidates.push(c);
  };
  for (const placement of PLACEMENT_PROFILES) add(buildCandidate(pre, ranges, opts, placement));
  const bases = [...candidates];
  if (!bases.some((c) => quantizedCount(c.plan) > 0)) return { chosen: bases[0]! };

  // Step 2: per-region costs from ORT's profiler.
  const floatRunMs = await medianRunMs(engine, pre, feeds).catch(rejected);
  const profileRuns = Math.max(10, Math.min(300, Math.round(PROFILE_BUDGET_MS / Math.max(floatRunMs, 1e-3))));
  const decisions: RegionDecision[] = [];
  let floatProfile: NodeProfile | undefined;
  for (const base of bases) {
    throwIfAborted(options.signal, 'quantization');
    if (quantizedCount(base.plan) === 0) continue;
    floatProfile ??= await profileNodes(engine, pre, feeds, profileRuns).catch(rejected);
    add(await regionalCandidate(pre, ranges, opts, engine, feeds, base, floatProfile, profileRuns, decisions));
  }
  const storage = buildCandidate(pre, ranges, opts, 'storage');

  // Step 3: paired timing against float.
  throwIfAborted(options.signal, 'quantization');
  // 'storage' is the float graph once ORT has folded its Cast/Mul pairs: float's own times stand
  // for it here, and it is timed on its own only when it is chosen.
  const timed = candidates;
  const sessions: Session[] = [];
  let times: number[][];
  try {
    for (const m of [pre, ...timed.map((c) => c.model)]) sessions.push(await engine.createSession(m, { intraOpThreads: 1, interOpThreads: 1 }));
    let roundMs = 0;
    for (const s of sessions) roundMs += Math.min(...await s.time(feeds, 5));
    const runs = Math.max(20, Math.min(400, Math.ceil(TIMING_BUDGET_MS / Math.max(roundMs, 1e-3))));
    times = await measureSessionTimes(sessions, feeds, { warmup: 0, runs, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    rejected(err);
  } finally {
    for (const s of sessions) await s.release();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const floatTimes = times[0]!;
  const timings: PlacementTiming[] = timed.map((c, i) => ({ label: c.label, medianMs: median(times[i + 1]!), ratio: ratioStats(times[i + 1]!, floatTimes) }));
  const contenders = candidates.map((c, i) => ({ stats: timings[i]!.ratio!, quantized: quantizedCount(c.plan) }));
  const pick = pickFastest(contenders);
  const chosen = pick >= 0 ? candidates[pick]! : storage;
  const best = timings.reduce((a, b) => (b.ratio!.median < a.ratio!.median ? b : a));
  // Float against the chosen model, from one measurement.
  let floatMs = median(floatTimes);
  let quantizedMs = timings[pick]?.medianMs ?? 0;
  const chosenTiming = timings[pick];
  if (pick < 0) {
    const own = await measureLatency(pre, storage, engine, feeds);
    timings.push(own.candidates[0]!);
    ({ floatMs, quantizedMs } = own);
  }
  const verdict = chosenTiming
    ? `${chosen.label}: ${(1 / chosenTiming.ratio!.median).toFixed(2)}x float32 (95% interval ${(1 / chosenTiming.ratio!.high).toFixed(2)}-${(1 / chosenTiming.ratio!.low).toFixed(2)}x over ${floatTimes.length} paired runs)`
    : `no int8 placement was clearly faster than float32 here (best: ${best.label} at ${(1 / best.ratio!.median).toFixed(2)}x, 95% interval ${(1 / best.ratio!.high).toFixed(2)}-${(1 / best.ratio!.low).toFixed(2)}x over ${floatTimes.length} paired runs; int8 must win by ${Math.round(MARGIN * 100)}%): wrote float compute with int8-stored constants`;
  return {
    chosen,
    latency: {
      floatMs,
      quantizedMs,
      speedup: floatMs / quantizedMs,
      candidates: timings,
      chosen: chosen.label,
      runs: floatTimes.length,
      ...(decisions.length ? { regions: decisions } : {}),
      verdict,
    },
  };
}

/** Times the float and one quantized model (placement chosen by the user). */
export async function measureLatency(pre: Model, candidate: Candidate, engine: Engine, feeds: Feeds, runs = 20): Promise<LatencyCheck> {
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
    const [f, q] = await measureSessionTimes(sessions, feeds, { warmup: 5, runs });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const timing: PlacementTiming = { label: candidate.label, medianMs: median(q!), ratio: ratioStats(q!, f!) };
    return { floatMs: median(f!), quantizedMs: timing.medianMs, speedup: median(f!) / timing.medianMs, candidates: [timing], chosen: candidate.label, runs };
  }
}

