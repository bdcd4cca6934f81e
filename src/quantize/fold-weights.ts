/**
 * Folding for the modes that rewrite the IR directly (dynamic, weight-only): weights stored behind
 * Casts, Transposes or DequantizeLinear are folded first, and those left in float are stored in
 * float16 again afterwards. Static and fp16 fold in their pre-processing.
 */
import type { Model } from '../ir/model.js';
import { describeFolding, foldConstants, type FoldReport } from '../ir/passes/index.js';
import { restoreFloat16Storage } from './float16-storage.js';
import type { DecisionLog } from './decisions.js';

export function foldStoredWeights(model: Model, log: DecisionLog): FoldReport {
  const report = foldConstants(model);
  const note = describeFolding(report);
  if (note) log.note(note);
  return report;
}

export function restoreStoredWeights(model: Model, report: FoldReport, log: DecisionLog): void {
  const casts = restoreFloat16Storage(model, report);
  for (const c of casts) log.skipped(c, 'a weight of a float op, stored in float16 as in the model given (ONNX Runtime folds the Cast when it loads the model)');
  if (casts.length) log.note(`${casts.length} weight(s) left in float stored in float16 again, as in the model given`);
}
