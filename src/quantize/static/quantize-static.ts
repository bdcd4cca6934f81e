/**
 * Static quantization end to end: pre-process (BatchNorm folding, constant folding), ranges
 * (calibration or a ranges file), plan, apply, clean up, and the speed check that loads the result
 * in ONNX Runtime. Returns the model, the plan and a summary in which every node left in float has
 * a reason.
 */
import type { Model } from '../../ir/model.js';
import { storedTensorBytes } from '../../onnx/tensors.js';
import { firstQuantizedNode } from '../../ir/passes/index.js';
import { restoreFloat16Storage } from '../float16-storage.js';
import { Engine } from '../../runtime/engine.js';
import { throwIfAborted, UnsupportedOpError } from '../../errors.js';
import { ProgressTracker } from '../../progress.js';
import type { QuantizeResult, QuantizeSummary } from '../types.js';
import { resolveStaticOptions, type ResolvedStaticOptions, type StaticQuantizeOptions } from './options.js';
import { preprocess } from './preprocess.js';
import { speedCheck, attachLatency, type SpeedCheckReport } from './speed-check.js';
import { buildCandidate, searchPlacement, type Candidate, type LatencyCheck } from './placement-search.js';
import { measureLatency } from './candidate-timing.js';
import { calibrationSamples, resolveRanges, type RangeSource } from './ranges.js';
import { chooseWeightStore, weightStoreToChoose } from './weight-store.js';
import { searchWithinBudget, type BudgetReport } from './budget-search.js';
import { DropEvaluator } from '../../eval/drop-evaluator.js';
import type { QuantDecisions } from './decisions.js';
import type { QuantPlan } from './plan.js';
import type { TensorRange } from '../../calibrate/types.js';
import { describeTarget, resolveTarget, type Target } from '../../target/resolve.js';
import { wasmFloatReason } from '../../target/wasm-kernels.js';
import { prepareRecovery, recoveryData } from './recovery/recovery.js';
import { timingFeeds } from './timing-feeds.js';
import { checkLoadsInChild, prepareLoadCheck } from '../../runtime/load-check.js';
import { DYNAMIC_OPS, dequantizeDynamic, givenAfterPreprocess } from './requantize.js';

/** Calibration samples that weigh the weight store on targets without exact u8 x s8 sums. */
const STORE_SAMPLES = 8;

export interface StaticQuantizeResult extends QuantizeResult {
  plan: QuantPlan;
  /** The resolved settings, for reports. */
  settings: Record<string, string | number | boolean>;
  /** Where the ranges came from. */
  calibration: RangeSource;
  /** The ranges used (tensor names of the pre-processed model): pass them back as `ranges` to re-quantize without calibrating. */
  ranges: Map<string, TensorRange>;
  /** The target the model was written for (resolved from --target). */
  target: Target;
  /** The accuracy-budget search (with maxDrop): every variant tried, the choice and why it stopped. */
  budget?: BudgetReport;
  /** What the searches decided: pass back as `decisions` (with `ranges`) to rebuild this model without searching. */
  decisions: QuantDecisions;
  speedCheck?: SpeedCheckReport;
}

function settingsOf(o: ResolvedStaticOptions, target: Target): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = {
    target: target.name,
    format: o.format,
    activations: `${o.activations}${o.symmetricActivations ? ' symmetric' : ''}`,
    weights: `${o.reduceRange ? 'int8 7-bit' : o.weights} ${o.perChannel ? 'per-channel' : 'per-tensor'}`,
  };
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  if (o.opTypes) s.opTypes = o.opTypes.join(',');
  return s;
}

/**
 * A model that already holds quantized ops would be quantized twice: refuse it up front. A
 * DequantizeLinear of a constant alone only stores a weight (pre-processing folds it).
 */
function refuseQuantized(model: Model): void {
  // ONNX Runtime's dynamic models can be re-quantized from their int8 weights: say how.
  const dynamic = [...model.graph.allNodes()].some((n) => n.domain === '' && DYNAMIC_OPS.has(n.opType));
  const how = dynamic ? ', or pass --requantize (API: requantize: true) to keep its int8 weights as they are and calibrate its activations into a static model' : '';
  const refuse = (label: string) => new UnsupportedOpError(`${model.label()} is already quantized (node ${label}); quantize the float model it came from${how}`);
  const q = firstQuantizedNode(model);
  if (q) throw refuse(q);
  for (const n of model.graph.allNodes()) {
    if (n.opType === 'DequantizeLinear' && n.inputs.some((v) => v && !v.constant)) throw refuse(n.label());
  }
}

/**
 * When nothing could be quantized, say why (the most common reasons) instead of writing a float
 * copy. Placement 'storage' (chosen, or measured fastest) computes in float on purpose.
 */
function refuseEmpty(model: Model, plan: QuantPlan, placement: string): void {
  if (plan.nodes.some((n) => n.action === 'quantize') || (placement === 'storage' && plan.stored.length > 0)) return;
  const reasons = new Map<string, number>();
  for (const n of plan.nodes) reasons.set(n.detail, (reasons.get(n.detail) ?? 0) + 1);
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, c]) => `${c} x ${r}`).join('; ');
  throw new UnsupportedOpError(`${model.label()}: no node can be quantized statically (${top})`);
}

/** What the target changed, for the plan's notes: weights stored for its arithmetic, and where speed was measured. */
function targetNotes(target: Target, plan: QuantPlan, timed: boolean, placement: string): string[] {
  const u8 = plan.weights.filter((w) => w.encoding === 'uint8').length;
  const safe = plan.weights.filter((w) => w.encoding === 'int8-safe').length;
  const stored = u8 || safe ? `: ${[u8 ? `${u8} weight(s) stored as uint8 for the U8U8 kernels` : '', safe ? `${safe} as int8 within the int16 pair budget` : ''].filter(Boolean).join(', ')}` : '';
  const notes = [`${describeTarget(target)}${stored}`];
  if (!target.measurable) notes.push(`speed was not measured for ${target.name} (this machine is ${target.host}): placement '${placement}' is the target's default, not a measurement`);
  else if (timed && target.runtime === 'wasm') notes.push("placements timed in onnxruntime-web's wasm backend on this machine");
  return notes;
}

export async function quantizeStatic(model: Model, options: StaticQuantizeOptions = {}): Promise<StaticQuantizeResult> {
  resolveStaticOptions(options); // bad options fail before any work
  // --requantize: the float model the given int8 one computes, with its weights' integers kept.
  const given = options.requantize ? dequantizeDynamic(model) : undefined;
  const floatModel = given?.model ?? model;
  refuseQuantized(floatModel);
  prepareLoadCheck();
  const engine = options.engine ?? new Engine();
  const progress = new ProgressTracker('quantize', 5, options.onProgress);
  let timing: Engine | undefined;
  try {
    const target = await resolveTarget(options.target, engine);
    let opts = resolveStaticOptions(options, target);
    if (target.runtime === 'wasm') opts = { ...opts, targetFloat: wasmFloatReason };
    // Placements are timed where the model will run: onnxruntime-web's wasm backend for 'wasm'.
    timing = target.runtime === 'wasm' ? new Engine({ runtime: 'wasm', intraOpThreads: 1 }) : engine;
    progress.update(0, 'pre-processing (BatchNorm and constant folding)');
    const eightBit = opts.activations === 'uint8' || opts.activations === 'int8';
    const { model: processed, notes, folded, renamed, fusedHardSwish } = await preprocess(floatModel, engine, { optimize: opts.preprocess, upgradeTo10: eightBit, rewriteStems: opts.activations === 'uint8' });
    throwIfAborted(options.signal, 'quantization');
    // Equalization and SmoothQuant change the float model (not its function) before the ranges.
    const recovery = await prepareRecovery(processed, options, opts, engine, floatModel);
    const pre = recovery.model;
    notes.push(...recovery.notes);
    if (given) {
      // Weights pre-processing or equalization changed no longer hold the given integers.
      const { kept, changed, rescaled } = givenAfterPreprocess(pre, given.given, renamed);
      opts = { ...opts, givenWeights: kept };
      notes.push(given.note);
      if (rescaled.length) notes.push(`requantize: ${rescaled.length} weight(s) had a BatchNorm folded into them: they keep their integers, on per-channel scales (scale x gamma / sigma)`);
      if (changed.length) notes.push(`requantize: ${changed.length} weight(s) changed before planning (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', ...' : ''}: a BatchNorm, constant or equalization folded into them) are rounded again`);
    }
    progress.update(1, 'ranges');
    const { ranges, source, sample: firstSample, notes: calibrationNotes, statistics } = await resolveRanges(floatModel, pre, options, opts, engine, recovery.requests);
    notes.push(...calibrationNotes);
    const sample = await timingFeeds(pre, firstSample, opts.timingBatch, options.calibration);
    const recovered = recoveryData(recovery, statistics);
    if (recovered) opts = { ...opts, recoveryData: recovered };
    throwIfAborted(options.signal, 'quantization');
    if (options.decisions) {
      // A replay: the stores, placement and float nodes some earlier search decided.
      opts = { ...opts, weightOverrides: new Map(Object.entries(options.decisions.weights)) };
    } else if (weightStoreToChoose(opts)) {
      // Without exact u8 x s8 sums: how many weights can stay int8 within the pair budget, by error.
      const samples = options.calibration ? await calibrationSamples(pre, options.calibration, STORE_SAMPLES) : [];
      const decision = samples.length ? await chooseWeightStore(pre, ranges, opts, engine, samples) : undefined;
      if (decision) {
        opts = { ...opts, weightOverrides: decision.overrides };
        notes.push(decision.note);
      } else if (!samples.length) {
        notes.push('weights stored as uint8 (U8U8 kernels) where int8 could saturate: without calibration samples, the error of the faster int8 within the pair budget cannot be weighed');
      }
      throwIfAborted(options.signal, 'quantization');
    }
    // A target this machine does not run (another CPU class) cannot be timed here.
    const measure = opts.speedCheck && sample !== undefined && target.measurable;
    if (measure && opts.timingBatch > 1) notes.push(`speed measured at batch ${opts.timingBatch} (--timing-batch), 1 thread`);
    let candidate: Candidate;
    let latency: LatencyCheck | undefined;
    let budget: BudgetReport | undefined;
    if (options.decisions) {
      progress.update(2, 'rebuilding the decided placement');
      const d = options.decisions;
      candidate = buildCandidate(pre, ranges, opts, d.placement, { forceFloat: new Map(Object.entries(d.keepFloat)) }, `${d.placement} (as decided before)`);
    } else if (options.maxDrop !== undefined) {
      progress.update(2, 'accuracy budget: evaluating placements, keeping the most harmful layers in float, timing what fits');
      const evaluator = await DropEvaluator.create(floatModel, options.evalData!, { engine, ...(options.metric ? { metric: options.metric } : {}), ...(options.evalLimit ? { limit: options.evalLimit } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      ({ chosen: candidate, report: budget } = await searchWithinBudget(pre, ranges, opts, evaluator, options.evalData!, { cpu: engine, timing: measure ? timing : undefined }, sample, {
        maxDrop: options.maxDrop, prefer: options.prefer ?? 'speed', ...(options.timeBudget ? { timeBudgetS: options.timeBudget } : {}), ...(options.signal ? { signal: options.signal } : {}),
      }));
    } else if (opts.placement === 'auto' && measure) {
      progress.update(2, 'planning placements, profiling int8 regions, timing the candidates against float');
      ({ chosen: candidate, latency } = await searchPlacement(pre, ranges, opts, timing, sample, options.signal ? { signal: options.signal } : {}));
    } else {
      progress.update(2, 'planning and rewriting the graph');
      candidate = buildCandidate(pre, ranges, opts, opts.placement === 'auto' ? (target.measurable ? 'full' : target.untimedPlacement) : opts.placement);
    }
    const { plan, model: q } = candidate;
    // Float16-stored weights of ops left in float (not stored as int8) go back to float16.
    const restored = restoreFloat16Storage(q, folded).length;
    if (restored) notes.push(`${restored} weight(s) of float ops stored in float16 again, as in the model given`);
    // Under an accuracy budget, float compute can be the answer (the most accurate variant).
    if (!budget && !options.decisions) refuseEmpty(model, plan, candidate.placement);
    plan.notes.unshift(...targetNotes(target, plan, measure, candidate.placement), ...notes);
    if (latency?.verdict) plan.notes.push(`placement ${latency.verdict}`);
    if (budget) plan.notes.push(`accuracy budget: ${budget.verdict}${budget.keptFloat.length ? `; kept in float: ${budget.keptFloat.join(', ')}` : ''}`);
    throwIfAborted(options.signal, 'quantization');
    // The written model at ORT's default level, in a process of its own, before this process makes
    // a session of it (timing, the speed check): a native crash of ORT is then an error, not ours.
    // (The placement and budget searches have timed their candidates in-process already.)
    const loadCheck = await checkLoadsInChild(q, 'the quantized model', options.onProgress ? { onProgress: options.onProgress } : {});
    progress.update(3, 'speed check in ONNX Runtime');
    if (measure && !latency) latency = await measureLatency(pre, candidate, timing, sample);
    if (latency && opts.timingBatch > 1) latency.batch = opts.timingBatch;
    const check = await speedCheck(q, plan, engine, { activations: opts.activations, format: opts.format });
    if (latency) attachLatency(check, latency, opts.placement === 'auto');
    // Speeds above are against the pre-processed float model; where pre-processing itself made the
    // float model faster (fused activations), the model given is the user's reference too.
    if (fusedHardSwish && measure && !given) {
      const vs = await measureLatency(floatModel, candidate, timing, sample);
      if (vs.speedup > 0) plan.notes.push(`${vs.speedup.toFixed(2)}x the float model as given (${vs.quantizedMs.toFixed(3)} ms vs ${vs.floatMs.toFixed(3)} ms, batch ${opts.timingBatch}, 1 thread, ${vs.runs} paired runs; the speeds above are against the pre-processed float model, hard-swish fused)`);
    }
    // --requantize: the model given is the one to beat too (same paired timing, given model as reference).
    if (given && measure) {
      const vs = await measureLatency(model, candidate, timing, sample);
      if (vs.speedup > 0) {
        plan.notes.push(`requantize: ${vs.speedup.toFixed(2)}x the given int8 model (${vs.quantizedMs.toFixed(3)} ms vs ${vs.floatMs.toFixed(3)} ms, batch ${opts.timingBatch}, 1 thread, ${vs.runs} paired runs)`);
        if (vs.speedup < 1) check.warnings.push(`the re-quantized model ran ${vs.speedup.toFixed(2)}x the speed of the given int8 model here: keep the given model (its dynamic int8 kernels suit this model better)`);
      }
    }
    progress.update(5);
    const summary: QuantizeSummary = {
      mode: 'static',
      quantized: plan.nodes.filter((n) => n.action !== 'float').map((n) => ({ node: n.node, op: n.op, detail: `${n.action === 'quantize' ? '' : `${n.action}: `}${n.detail}` })),
      skipped: plan.nodes.filter((n) => n.action === 'float').map((n) => ({ node: n.node, op: n.op, detail: n.detail })),
      sizeBeforeBytes: storedTensorBytes(model),
      sizeAfterBytes: storedTensorBytes(q),
      warnings: [...plan.warnings, ...check.warnings],
      notes: [...plan.notes, loadCheck.note],
    };
    const decisions: QuantDecisions = {
      placement: candidate.placement,
      keepFloat: Object.fromEntries(candidate.forceFloat),
      weights: Object.fromEntries(opts.weightOverrides ?? []),
      ...(Object.keys(recovery.decisions).length ? { recovery: recovery.decisions } : {}),
    };
    const result: StaticQuantizeResult = { model: q, summary, plan, settings: settingsOf(opts, target), calibration: source, ranges, target, decisions };
    if (budget) result.budget = budget;
    if (opts.speedCheck) result.speedCheck = check;
    return result;
  } finally {
    if (timing && timing !== engine) await timing.close();
    if (!options.engine) await engine.close();
  }
}
