/**
 * --max-drop: the largest sparsity whose measured accuracy drop stays within the budget. Each
 * candidate is pruned and scored against the original by the DropEvaluator the quantizer's accuracy
 * budget uses (data read and reference run once; top-1 with labels, agreement with the original's
 * answers without); the search bisects between the largest sparsity known to be within budget and
 * the smallest known to be over it, assuming more sparsity never helps.
 */
import type { Model } from '../ir/model.js';
import { DropEvaluator } from '../eval/drop-evaluator.js';
import type { Engine } from '../runtime/engine.js';
import type { DataSource } from '../calibrate/data/open.js';
import { throwIfAborted } from '../errors.js';
import type { BudgetTrial } from './types.js';

/** Bisection steps after the endpoints: the answer is within max / 2^STEPS of the best. */
const STEPS = 5;

export interface BudgetSearch<R> {
  best?: { sparsity: number; result: R };
  trials: BudgetTrial[];
}

export async function searchBudget<R extends { model: Model }>(
  reference: Model,
  maxSparsity: number,
  maxDrop: number,
  run: (sparsity: number) => Promise<R>,
  data: DataSource,
  options: { engine: Engine; evalSize?: number; signal?: AbortSignal },
): Promise<BudgetSearch<R>> {
  const trials: BudgetTrial[] = [];
  const evaluator = await DropEvaluator.create(reference, data, {
    engine: options.engine, ...(options.evalSize ? { limit: options.evalSize } : {}), ...(options.signal ? { signal: options.signal } : {}),
  });
  const measure = async (s: number): Promise<{ ok: boolean; result: R }> => {
    throwIfAborted(options.signal, 'budget search');
    const result = await run(s);
    const { drop } = await evaluator.evaluate(result.model); // points (top-1 or agreement)
    const ok = drop <= maxDrop;
    trials.push({ sparsity: s, drop, metric: evaluator.metricName, withinBudget: ok });
    return { ok, result };
  };
  const search: BudgetSearch<R> = { trials };
  const top = await measure(maxSparsity);
  if (top.ok) {
    search.best = { sparsity: maxSparsity, result: top.result };
    return search;
  }
  let lo = 0;
  let hi = maxSparsity;
  for (let i = 0; i < STEPS; i++) {
    const mid = Math.round(((lo + hi) / 2) * 1000) / 1000;
    if (mid <= lo || mid >= hi) break;
    const m = await measure(mid);
    if (m.ok) {
      lo = mid;
      search.best = { sparsity: mid, result: m.result };
    } else hi = mid;
  }
  return search;
}
