/**
 * `prune(model, options)`: prunes the ONNX graph itself, with no retraining. Unstructured
 * (magnitude, Wanda, SparseGPT) and N:M zero weights inside the tensors; `method: 'channel'`
 * removes whole channels, heads and neurons so the tensors really shrink. Every run decides a plan
 * first (data: --plan-out), then applies it to a copy; the input model is never modified.
 */
import type { Model } from '../ir/model.js';
import { cloneModel } from '../ir/clone.js';
import { runPasses } from '../ir/passes/pass.js';
import { CLEANUP_PASSES, constantsToInitializers, describeFolding, foldConstants, removeUnused } from '../ir/passes/index.js';
import { restoreFloat16Storage } from '../quantize/float16-storage.js';
import { Engine } from '../runtime/engine.js';
import { checkLoadsInChild, prepareLoadCheck } from '../runtime/load-check.js';
import { modelHash } from '../onnx/hash.js';
import { OptionError } from '../errors.js';
import { resolvePruneOptions, type PruneOptions, type ResolvedPruneOptions } from './options.js';
import type { PrunePlan } from './plan.js';
import type { LayerResult, PruneResult, PruneSummary, ChannelSummary } from './types.js';
import { countParams, hardwareNote } from './params.js';
import { searchBudget } from './budget.js';
import { applyUnstructured, planUnstructured, prepareUnstructured } from './unstructured/run.js';
import { applyChannels, planChannels, prepareChannels } from './structured/run.js';

export type { PruneOptions } from './options.js';

interface Outcome {
  model: Model;
  plan: PrunePlan;
  layers: LayerResult[];
  channels?: ChannelSummary;
  notes: string[];
}

export async function prune(model: Model, options: PruneOptions): Promise<PruneResult> {
  const o0 = resolvePruneOptions(options);
  prepareLoadCheck();
  const engine = o0.engine ?? new Engine();
  const o: ResolvedPruneOptions = { ...o0, engine };
  try {
    const base = cloneModel(model);
    // Exporters such as paddle2onnx keep weights in Constant nodes: make them initializers first.
    runPasses(base, [constantsToInitializers]);
    // Weights stored behind Casts (float16), Transposes or DequantizeLinear are constants too.
    const folded = foldConstants(base);
    const foldNote = describeFolding(folded);
    if (foldNote) runPasses(base, [removeUnused]);
    let apply: (plan: PrunePlan) => Promise<Outcome>;
    let decide: (sparsity: number) => PrunePlan;
    if (o.method === 'channel') {
      const ctx = await prepareChannels(base, o);
      decide = (s) => planChannels(ctx, s);
      apply = async (plan) => ({ ...(await applyChannels(ctx, plan)), plan, layers: [] });
    } else {
      const ctx = await prepareUnstructured(base, o);
      decide = (s) => planUnstructured(ctx, s);
      apply = async (plan) => ({ ...(await applyUnstructured(ctx, plan)), plan, notes: ctx.stats?.notes ? [...ctx.stats.notes] : [] });
    }
    const run = (s: number) => apply(decide(s));
    const notes: string[] = [];
    let outcome: Outcome;
    let search: PruneSummary['search'];
    if (o.plan) {
      // Replay: the decisions of an earlier run (a recipe), applied to the same folded model.
      if (o.plan.model !== modelHash(base)) throw new OptionError('the pruning plan was made for another model (its sha256 differs after folding): replay the recipe on the model it was saved from');
      outcome = await apply(o.plan);
    } else if (o.maxDrop !== undefined) {
      const found = await searchBudget(model, o.sparsity, o.maxDrop, run, o.evalData!, { engine, ...(o.evalSize ? { evalSize: o.evalSize } : {}), ...(o.signal ? { signal: o.signal } : {}) });
      search = found.trials;
      if (found.best) {
        outcome = found.best.result;
        notes.push(`--max-drop ${o.maxDrop}: ${found.best.sparsity} is the largest sparsity tried within the budget (${found.trials.length} tried, see search)`);
      } else {
        outcome = await run(0);
        notes.push(`--max-drop ${o.maxDrop}: no sparsity tried stayed within the budget; the model is written unpruned`);
      }
    } else {
      outcome = await run(o.sparsity);
    }
    if (foldNote) notes.unshift(foldNote.replace('before planning', 'before pruning'));
    const restored = restoreFloat16Storage(outcome.model, folded, { round: true }).length;
    if (restored) notes.push(`${restored} weight(s) stored in float16 again, as in the model given (pruned values rounded to float16)`);
    runPasses(outcome.model, CLEANUP_PASSES);
    // Before the caller times or evaluates it in-process (the CLI's check): a native crash of ORT on
    // the pruned graph is an error here. (Sensitivity and --max-drop ran their trials in-process.)
    const loaded = await checkLoadsInChild(outcome.model, 'the pruned model', o.onProgress ? { onProgress: o.onProgress } : {});
    return { model: outcome.model, plan: outcome.plan, summary: summarize(model, outcome, o, [...notes, ...outcome.notes, loaded.note], search) };
  } finally {
    if (!o0.engine) await engine.close();
  }
}

function summarize(before: Model, r: Outcome, o: ResolvedPruneOptions, notes: string[], search: PruneSummary['search']): PruneSummary {
  const p0 = countParams(before);
  const p1 = countParams(r.model);
  const params = r.layers.reduce((s, l) => s + l.params, 0);
  const zeros = r.layers.reduce((s, l) => s + l.zeros, 0);
  const firstLast = r.plan.skipped.filter((s) => s.reason.includes('--include-first-last')).map((s) => s.node);
  if (firstLast.length) notes.unshift(`first and last weighted layers left dense by default: ${firstLast.join(', ')} (--include-first-last prunes them too)`);
  const summary: PruneSummary = {
    method: o.method,
    scope: o.scope,
    sparsity: r.plan.sparsity,
    layers: r.layers,
    skipped: r.plan.skipped,
    achieved: { prunedLayers: params ? zeros / params : 0, model: p1.total ? 1 - p1.nonzero / p1.total : 0 },
    params: { before: p0.total, after: p1.total, nonzeroBefore: p0.nonzero, nonzeroAfter: p1.nonzero },
    hardware: hardwareNote(o.method, o.nm),
    notes,
    warnings: [],
  };
  if (o.nm) summary.pattern = `${o.nm.n}:${o.nm.m}`;
  if (r.channels) summary.channels = r.channels;
  if (search) summary.search = search;
  if (o.method !== 'channel' && !r.layers.length) summary.warnings.push('no layer was pruned: every weighted layer was skipped (see skipped)');
  if (o.method === 'channel' && !r.channels?.groups.some((g) => g.after < g.before)) summary.warnings.push('no channel group could be cut: every group was left alone (see the reasons) or is too small for the sparsity');
  return summary;
}
