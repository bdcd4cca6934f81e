/**
 * The recipe step of a pruning run: the resolved options that shape the model and the plan it
 * carried out (per-layer sparsities, whichever allocation or --max-drop search chose them; or the
 * units dropped from each channel group). Replay applies the plan without scanning or searching.
 * Methods that compute with data on apply (Wanda scores, SparseGPT updates, channel
 * reconstruction) read the same calibration file again; the lock holds its hash.
 */
import type { PruneOptions, ResolvedPruneOptions } from '../prune/options.js';
import type { PrunePlan } from '../prune/plan.js';
import type { PruneRecipeStep, StepData } from './recipe.js';

export function pruneStep(o: ResolvedPruneOptions, plan: PrunePlan, data?: StepData): PruneRecipeStep {
  const options: PruneRecipeStep['options'] = { sparsity: plan.sparsity, method: o.method, scope: o.scope, exclude: o.exclude, includeFirstLast: o.includeFirstLast };
  if (o.nm) options.pattern = `${o.nm.n}:${o.nm.m}`;
  if (o.calibration !== undefined) options.calibSize = o.calibSize;
  if (o.method === 'channel') Object.assign(options, { importance: o.importance, reconstruct: o.reconstruct, channelMultiple: o.channelMultiple });
  if (o.method === 'sparsegpt') options.dampPercent = o.dampPercent;
  const usesData = o.calibration !== undefined && data?.calibration !== undefined;
  return { options, plan, ...(usesData ? { data } : {}) };
}

/** The options that replay a prune step; `calibration` is the data file it reads again. */
export function pruneStepOptions(p: PruneRecipeStep, calibration?: string): PruneOptions {
  return { ...p.options, plan: p.plan, ...(calibration !== undefined ? { calibration } : {}) };
}
