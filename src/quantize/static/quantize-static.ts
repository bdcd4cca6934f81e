/**
 * Static quantization end to end: pre-process (BatchNorm folding, constant folding), ranges
 * (calibration or a ranges file), plan, apply, clean up, and the speed check that loads the result
 * in ONNX Runtime. Returns the model, the plan and a summary in which every node left in float has
 * a reason.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses, CLEANUP_PASSES } from '../../ir/passes/index.js';
import { forEachTensor } from '../../onnx/tensors.js';
import { Engine } from '../../runtime/engine.js';
import { throwIfAborted } from '../../errors.js';
import { ProgressTracker } from '../../progress.js';
import type { QuantizeResult, QuantizeSummary } from '../types.js';
import { resolveStaticOptions, type StaticQuantizeOptions } from './options.js';
import { preprocess } from './preprocess.js';
import { planStatic } from './planner.js';
import { applyQdqPlan } from './apply-qdq.js';
import { lowerToQOperator } from './qoperator.js';
import { speedCheck, type SpeedCheckReport } from './speed-check.js';
import { resolveRanges } from './ranges.js';
import type { QuantPlan } from './plan.js';

export interface StaticQuantizeResult extends QuantizeResult {
  plan: QuantPlan;
  speedCheck?: SpeedCheckReport;
}

/** Bytes the tensors take (what dominates the file size). */
export function tensorBytes(model: Model): number {
  let total = 0;
  forEachTensor(model, (t) => { total += t.byteLength; });
  return total;
}

export async function quantizeStatic(model: Model, options: StaticQuantizeOptions = {}): Promise<StaticQuantizeResult> {
  const opts = resolveStaticOptions(options);
  const engine = options.engine ?? new Engine();
  const progress = new ProgressTracker('quantize', 5, options.onProgress);
  try {
    progress.update(0, 'pre-processing (BatchNorm and constant folding)');
    const pre = await preprocess(model, engine, { optimize: opts.preprocess });
    throwIfAborted(options.signal, 'quantization');
    progress.update(1, 'ranges');
    const ranges = await resolveRanges(pre, options, opts, engine);
    throwIfAborted(options.signal, 'quantization');
    progress.update(2, 'planning');
    const plan = planStatic(pre, ranges, opts);
    progress.update(3, 'rewriting the graph');
    const q = cloneModel(pre);
    applyQdqPlan(q, plan);
    if (opts.format === 'qoperator') lowerToQOperator(q);
    runPasses(q, CLEANUP_PASSES);
    throwIfAborted(options.signal, 'quantization');
    progress.update(4, 'speed check in ONNX Runtime');
    const check = await speedCheck(q, plan, engine, { activations: opts.activations, format: opts.format });
    progress.update(5);
    const summary: QuantizeSummary = {
      mode: 'static',
      quantized: plan.nodes.filter((n) => n.action !== 'float').map((n) => ({ node: n.node, op: n.op, detail: `${n.action === 'quantize' ? '' : `${n.action}: `}${n.detail}` })),
      skipped: plan.nodes.filter((n) => n.action === 'float').map((n) => ({ node: n.node, op: n.op, detail: n.detail })),
      sizeBeforeBytes: tensorBytes(model),
      sizeAfterBytes: tensorBytes(q),
      warnings: [...plan.warnings, ...check.warnings],
    };
    const result: StaticQuantizeResult = { model: q, summary, plan };
    if (opts.speedCheck) result.speedCheck = check;
    return result;
  } finally {
    if (!options.engine) await engine.close();
  }
}
