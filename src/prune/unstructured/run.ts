/**
 * Unstructured and N:M pruning: prepare once (candidates, the one calibration pass, the
 * sensitivity scan), then decide a plan for a sparsity and apply it to a copy of the model. The
 * budget search (--max-drop) repeats the last two steps only.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { StatRequest } from '../../calibrate/types.js';
import { modelHash } from '../../onnx/hash.js';
import { throwIfAborted } from '../../errors.js';
import { ProgressTracker } from '../../progress.js';
import type { ResolvedPruneOptions } from '../options.js';
import type { LayerPlan, PrunePlan } from '../plan.js';
import type { LayerResult } from '../types.js';
import { findTargets, type WeightTarget } from '../targets.js';
import { collectPruneStats, gramRequest, normRequest } from '../stats.js';
import { globalMagnitudeSparsity, uniformSparsity } from '../allocate.js';
import { allocateBySensitivity, scanSensitivity, type SensitivityScan } from '../sensitivity.js';
import { chooseCandidates, nodeName, type Candidates } from './candidates.js';
import { nmOrder } from './select.js';
import { pruneByScore, pruneLayer } from './apply.js';
import { InlineSolver, POOL_MIN_REDUCTION, SolverPool } from './solver-pool.js';

export interface UnstructuredContext {
  base: Model;
  o: ResolvedPruneOptions;
  candidates: Candidates;
  stats?: Statistics;
  scan?: SensitivityScan;
  hash: string;
}

function statRequests(targets: readonly WeightTarget[], o: ResolvedPruneOptions): StatRequest[] {
  const out: StatRequest[] = [];
  for (const t of targets) {
    // SparseGPT's fallback for ConvTranspose, and its stand-in during a sensitivity scan, is Wanda's score.
    if (o.method === 'wanda' || (o.method === 'sparsegpt' && (t.kind === 'convtranspose' || o.scope === 'sensitivity'))) out.push(normRequest(t));
    if (o.method === 'sparsegpt') {
      const g = gramRequest(t);
      if (g) out.push(g);
    }
  }
  return out;
}

export async function prepareUnstructured(base: Model, o: ResolvedPruneOptions): Promise<UnstructuredContext> {
  const candidates = chooseCandidates(base, o);
  const ctx: UnstructuredContext = { base, o, candidates, hash: modelHash(base) };
  const requests = statRequests(candidates.targets, o);
  if (requests.length) ctx.stats = await collectPruneStats(base, requests, o);
  // A replayed plan already holds the sparsities the scan chose.
  if (o.scope === 'sensitivity' && !o.plan) ctx.scan = await scanSensitivity(base, candidates.targets, o, (t, s) => scoreOnly(ctx, t, s));
  return ctx;
}

/** The method that runs on a target, or the reason it falls back / is skipped. */
function methodFor(ctx: UnstructuredContext, t: WeightTarget): { method: LayerPlan['method']; note?: string } {
  const m = ctx.o.method as LayerPlan['method'];
  if (m === 'sparsegpt' && t.kind === 'convtranspose') return { method: 'wanda', note: 'SparseGPT needs the input patches each output multiplies; ConvTranspose is pruned by Wanda\'s score' };
  if (m === 'wanda' || (m === 'sparsegpt')) {
    const req = m === 'wanda' ? normRequest(t) : gramRequest(t)!;
    if (!ctx.stats?.get(req)) return { method: 'magnitude', note: `no calibration statistics reached its input '${t.input.name}' (see notes): pruned by magnitude` };
  }
  return { method: m };
}

export function planUnstructured(ctx: UnstructuredContext, sparsity: number): PrunePlan {
  const { o, candidates } = ctx;
  const targets = candidates.targets;
  const skipped = [...candidates.skipped];
  const usable: WeightTarget[] = [];
  for (const t of targets) {
    const order = o.nm ? nmOrder(t.cols, t.taps, o.nm.m) : undefined;
    if (typeof order === 'string') skipped.push({ node: nodeName(t.node), op: t.node.opType, reason: `cannot hold ${o.nm!.n}:${o.nm!.m}: ${order}` });
    else usable.push(t);
  }
  const fractions = o.scope === 'global' ? globalMagnitudeSparsity(usable, sparsity)
    : o.scope === 'sensitivity' ? allocateBySensitivity(ctx.scan!, usable, sparsity)
      : uniformSparsity(usable, sparsity);
  const layers: LayerPlan[] = usable.map((t) => {
    const { method, note } = methodFor(ctx, t);
    const lp: LayerPlan = { node: nodeName(t.node), op: t.node.opType, weight: t.source.name, params: t.rows * t.cols, sparsity: fractions.get(t)!, method };
    if (o.nm) lp.pattern = `${o.nm.n}:${o.nm.m} along ${t.taps > 1 ? 'input channels at each kernel tap' : 'the reduction'}`;
    if (note) lp.note = note;
    return lp;
  });
  for (const [t, first] of candidates.sharedWith) skipped.push({ node: nodeName(t.node), op: t.node.opType, reason: `shares its weight '${t.source.name}' with ${nodeName(first.node)}, pruned there` });
  const plan: PrunePlan = { schema: 'slimnet.prune-plan/1', model: ctx.hash, method: o.method, scope: o.scope, sparsity, layers, skipped };
  if (o.nm) plan.pattern = `${o.nm.n}:${o.nm.m}`;
  return plan;
}

/** Applies a plan to a copy of the prepared model (SparseGPT layers solved in parallel on worker threads). */
export async function applyUnstructured(ctx: UnstructuredContext, plan: PrunePlan): Promise<{ model: Model; layers: LayerResult[] }> {
  const model = cloneModel(ctx.base);
  const byName = new Map(findTargets(model.graph).targets.map((t) => [nodeName(t.node), t]));
  const progress = new ProgressTracker('prune', plan.layers.length, ctx.o.onProgress);
  const solves = plan.layers.filter((l) => l.method === 'sparsegpt').map((l) => byName.get(l.node)?.cols ?? 0);
  const pool = !solves.length ? undefined : Math.max(...solves) >= POOL_MIN_REDUCTION ? new SolverPool() : new InlineSolver();
  const layers: LayerResult[] = new Array(plan.layers.length);
  let done = 0;
  try {
    // At most two layers more than there are workers in flight: the copies they hold stay bounded.
    let next = 0;
    const lane = async () => {
      while (next < plan.layers.length) {
        const i = next++;
        const lp = plan.layers[i]!;
        throwIfAborted(ctx.o.signal, 'pruning');
        const t = byName.get(lp.node);
        if (!t) throw new Error(`plan names layer '${lp.node}', which has no prunable weight in this model`);
        const r = await pruneLayer(t, lp, ctx.o.nm, ctx.stats, ctx.o.dampPercent, pool);
        layers[i] = { node: lp.node, op: lp.op, weight: lp.weight, params: lp.params, zerosBefore: r.zerosBefore, zeros: r.zeros, sparsity: r.zeros / lp.params, method: lp.method, ...(lp.note ? { note: lp.note } : {}) };
        progress.update(++done, lp.node);
      }
    };
    await Promise.all(Array.from({ length: pool ? pool.size + 2 : 1 }, lane));
  } finally {
    await pool?.close();
  }
  return { model, layers };
}

/**
 * A copy of `t`'s weight pruned alone to `sparsity` by the method's score (SparseGPT's cheaper
 * stand-in is Wanda's score): what the sensitivity scan feeds the model.
 */
function scoreOnly(ctx: UnstructuredContext, t: WeightTarget, sparsity: number): Float32Array {
  const copy = cloneModel(ctx.base);
  const target = findTargets(copy.graph).targets.find((x) => x.node.name === t.node.name && x.source.name === t.source.name)!;
  const { method } = methodFor(ctx, t);
  const scan: LayerPlan['method'] = method === 'sparsegpt' ? (ctx.stats?.get(normRequest(t)) ? 'wanda' : 'magnitude') : method;
  pruneByScore(target, { node: '', op: '', weight: '', params: 0, sparsity, method: scan }, undefined, ctx.stats);
  return target.source.constValue!.toFloat32();
}
