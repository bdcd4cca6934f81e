/**
 * FP16 conversion: weights and compute in float16 for GPUs and accelerators, with the model's
 * inputs and outputs kept in float32 (Casts at the boundary) and risky ops kept in float32 (see
 * plan.ts). On CPU, ONNX Runtime runs float16 nodes that lack a float16 kernel through inserted
 * Casts, so the result runs everywhere, but it is a size and GPU optimization, not a CPU speed-up.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { runPasses } from '../../ir/passes/pass.js';
import { CLEANUP_PASSES, topologicalSort } from '../../ir/passes/index.js';
import { preprocess } from '../static/preprocess.js';
import { throwIfAborted } from '../../errors.js';
import { DecisionLog } from '../decisions.js';
import type { QuantizeResult } from '../types.js';
import { inferElemTypes } from '../../ir/elem-types.js';
import { isFloatType, planFp16, FP16_MAX } from './plan.js';
import { applyFp16 } from './apply.js';
import { fp16Settings, resolveFp16Options, type Fp16Options } from './options.js';
import { Engine } from '../../runtime/engine.js';
import { DataType } from '../../ir/data-type.js';
import { forEachTensor } from '../../onnx/tensors.js';
import { checkLoadsInChild, prepareLoadCheck } from '../../runtime/load-check.js';

export type { Fp16Options } from './options.js';

function hasFloat16(model: Model): boolean {
  let found = false;
  forEachTensor(model, (t) => { if (t.dataType === DataType.FLOAT16) found = true; });
  for (const g of model.graph.allGraphs()) for (const n of g.nodes) if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT16) found = true;
  return found;
}

function hasQdq(model: Model): boolean {
  for (const n of model.graph.allNodes()) if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') return true;
  return false;
}

/** What a crash of ONNX Runtime on the float16 model leaves the user to do. */
const FP16_FIX = 'keep the ops involved out of the conversion with --exclude, or report the model to slimnet';

export async function convertToFp16(model: Model, options: Fp16Options = {}): Promise<QuantizeResult> {
  prepareLoadCheck();
  const r = await convertToFp16Unchecked(model, options);
  // The final check: the written model must load (and run) at ORT's default level in a process of
  // its own, so a native crash of ORT on the float16 graph is an error here, not the user's segfault.
  const check = await checkLoadsInChild(r.model, 'the float16 model', { fix: FP16_FIX, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  (r.summary.notes ??= []).push(check.note);
  return r;
}

/**
 * The conversion without its load check, for weight-only's float16 activations: they check the
 * model they write themselves, with their size limit (quantize-weight-only.ts).
 */
export async function convertToFp16Unchecked(model: Model, options: Fp16Options = {}): Promise<QuantizeResult> {
  const o = resolveFp16Options(options);
  const log = new DecisionLog('fp16');
  const engine = o.engine ?? new Engine();
  let result: Model;
  let types: ReturnType<typeof inferElemTypes>;
  let beyond = new Map<string, number>();
  try {
    // Static mode's pre-processing: ORT's basic optimizer (BatchNorm folded into Conv), Constant
    // nodes to initializers, unused opset imports dropped, every node named. Not ORT's optimizer on
    // a model that already computes in float16 (its CPU session writes its own Casts around float16
    // nodes into the optimized graph) or on a QDQ model (its QDQ passes, which run even at 'basic',
    // would rewrite the groups static quantization laid out).
    const pre = await preprocess(model, engine, { optimize: o.preprocess && !hasFloat16(model) && !hasQdq(model) });
    result = pre.model;
    for (const n of pre.notes) log.note(n);
    runPasses(result, [topologicalSort]);
    types = inferElemTypes(result.graph);
    if (o.beyondFp16) {
      beyond = new Map(Object.entries(o.beyondFp16));
      for (const [name, max] of beyond) log.warn(`'${name}' reached ${max.toExponential(2)} on the recipe's data, beyond the float16 range (${FP16_MAX}): its producer and consumers stay float32`);
    } else if (o.calibration) {
      // The calibration machinery loads only when data is given.
      beyond = await (await import('./range-check.js')).valuesBeyondFp16(result, types, { ...o, engine });
      for (const [name, max] of beyond) log.warn(`'${name}' reaches ${max.toExponential(2)} on the data, beyond the float16 range (${FP16_MAX}): its producer and consumers stay float32`);
    } else {
      log.warn(`no calibration data given: only constants were checked against the float16 range (${FP16_MAX}); pass --calib to check the activations too`);
    }
  } finally {
    if (!o.engine) await engine.close();
  }
  throwIfAborted(o.signal, 'FP16 conversion');
  const plan = planFp16(result, types, o, beyond);
  for (const [node, reason] of plan.keep) log.skipped(node, reason);
  const converted = [...plan.convert];
  const changes = applyFp16(result, plan, types, o.keepIoTypes);
  for (const node of converted) log.quantized(node, 'float16');
  for (const cast of changes.casts) log.quantized(cast, `Cast to ${cast.getInt('to') === 10 ? 'float16' : 'float32'} at a float32/float16 boundary`);
  runPasses(result, CLEANUP_PASSES);
  throwIfAborted(o.signal, 'FP16 conversion');
  const noFloat = (n: Node) => (n.outputs.some((v) => isFloatType(types.get(v))) ? 'kept float32' : 'no floating-point tensors (integer or shape op): nothing to convert');
  return { model: result, summary: log.summary(model, result, noFloat), settings: fp16Settings(o), beyondFp16: Object.fromEntries(beyond) };
}
