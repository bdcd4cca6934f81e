/**
 * Planning with the data-driven recovery methods: the bias shifts depend on which weights the plan
 * turns into integers and with which scales (placements differ), so the candidate is planned once,
 * its biases shifted by the error of those integers, and planned again on the corrected copy (the
 * weights, hence their scales, are unchanged; the bias quantization and stored constants then see
 * the corrected values).
 */
import type { Model } from '../../../ir/model.js';
import { cloneModel } from '../../../ir/clone.js';
import type { TensorRange } from '../../../calibrate/types.js';
import type { ResolvedStaticOptions } from '../options.js';
import type { QuantPlan } from '../plan.js';
import { planStatic, type PlanOverrides } from '../planner.js';
import { applyBiasShifts, biasShifts } from './bias-correction.js';

export function planRecovered(pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, overrides: PlanOverrides): { base: Model; plan: QuantPlan } {
  const plan = planStatic(pre, ranges, opts, overrides);
  const data = opts.recoveryData;
  if (!data?.means) return { base: pre, plan };
  const shifts = biasShifts(pre, plan, data.means);
  if (!shifts.length) return { base: pre, plan };
  const base = cloneModel(pre);
  applyBiasShifts(base, shifts);
  const corrected = planStatic(base, ranges, opts, overrides);
  let largest = 0;
  for (const s of shifts) for (const x of s.shift) largest = Math.max(largest, Math.abs(x));
  corrected.notes.push(`bias correction: ${shifts.length} layer bias(es) shifted by the mean error of their int8 weights ${data.meansFrom === 'analytic' ? 'over input means computed from the BatchNorms' : 'on the calibration data'} (largest shift ${largest.toPrecision(3)})`);
  return { base, plan: corrected };
}
