/**
 * Accuracy recovery in the static pipeline, in three steps around the calibration pass:
 *
 * 1. `prepareRecovery`, before the ranges: the methods that change the float model (cross-layer
 *    equalization, SmoothQuant) decide their scales and apply them to the pre-processed model, so
 *    that the ranges are calibrated on the tensors that will run. Both leave the float function
 *    unchanged. When they need data (ReLU6 channels' maxima, SmoothQuant's activation maxima),
 *    their requests are merged into ONE pass over the calibration data on the unchanged model: the
 *    main calibration pass cannot serve them, because the range estimators (MSE, entropy) need the
 *    histograms of the transformed tensors, which per-channel statistics of the untransformed ones
 *    do not give. Without those methods (or with a recipe's decisions) there is no extra pass.
 * 2. The calibration pass carries bias correction's channel-mean requests next to the ranges.
 * 3. `recoveryData` turns those statistics into what the planner applies to every candidate.
 * Everything computed from data is recorded in `RecoveryDecisions`, so a recipe replays it.
 */
import type { Model } from '../../../ir/model.js';
import { cloneModel } from '../../../ir/clone.js';
import type { Engine } from '../../../runtime/engine.js';
import type { StatRequest } from '../../../calibrate/types.js';
import type { Statistics } from '../../../calibrate/stats/statistics.js';
import { collectStatistics } from '../../../calibrate/stats/collector.js';
import { OptionError } from '../../../errors.js';
import type { ResolvedStaticOptions, StaticQuantizeOptions } from '../options.js';
import type { RecoveryDecisions } from './decisions.js';
import type { RecoveryData } from './recovery-data.js';
import type { Toggle } from './options.js';
import { applyEqualization, computeEqualization, convPairs, equalizationRequests } from './equalization.js';
import { applySmoothing, computeSmoothing, smoothRequests, smoothTargets } from './smoothquant.js';
import { biasMeanRequests, correctableLayers } from './bias-correction.js';
import { analyticMeans, batchNormDeviations } from './analytic-means.js';

export interface PreparedRecovery {
  /** The pre-processed model after equalization and smoothing (the input itself when neither ran). */
  model: Model;
  decisions: RecoveryDecisions;
  notes: string[];
  /** Statistics for the calibration pass. */
  requests: StatRequest[];
  biasCorrection: boolean;
}

/**
 * What 'auto' turns on, from the measurements in docs/static-int8.md ("Recovery without
 * retraining"): equalization with per-tensor weights (per-channel scales already fit every
 * channel), and bias correction after an equalization: on the depthwise fixture it cut the logit
 * error after equalization (1.91% -> 1.66%) but raised it alone (3.98% -> 4.42%; with MSE ranges
 * the clipped activations have mean errors of their own, which the weights' partly offset), so
 * 'auto' applies it only where equalization ran (on the ResNet fixture, per-tensor: 1.56% plain,
 * 1.38% bias correction alone, 1.35% both). SmoothQuant stays off: the trained ViT fixture's LayerNorm outputs
 * have no outlier channels (max/median of the channel maxima 1.4 to 1.8), and smoothing them made
 * the logit error of static int8 slightly worse at every alpha tried.
 */
export function autoEnabled(opts: ResolvedStaticOptions): { equalization: boolean; biasCorrection: boolean; smoothQuant: boolean } {
  return { equalization: !opts.perChannel, biasCorrection: !opts.perChannel, smoothQuant: false };
}

const on = (t: Toggle, auto: boolean) => t === 'on' || (t === 'auto' && auto);

/** `original` is the model as given (its BatchNorms, before pre-processing folds them, for analytic bias correction). */
export async function prepareRecovery(pre: Model, options: StaticQuantizeOptions, opts: ResolvedStaticOptions, engine: Engine, original: Model): Promise<PreparedRecovery> {
  const r = opts.recovery;
  const auto = autoEnabled(opts);
  const notes: string[] = [];
  if (options.decisions) {
    // A replay: the decisions say everything; nothing is measured again.
    const d = options.decisions.recovery ?? {};
    const changes = !!(d.equalization?.length || d.smoothing?.length);
    const model = changes ? cloneModel(pre) : pre;
    if (d.equalization?.length) applyEqualization(model, d.equalization);
    if (d.smoothing?.length) applySmoothing(model, d.smoothing);
    return { model, decisions: d, notes, requests: [], biasCorrection: d.biasCorrection !== undefined };
  }
  const hasData = options.calibration !== undefined;
  // Ranges from a file were recorded on the model before any change: the transforms cannot run.
  const rangesGiven = options.ranges !== undefined;
  for (const [flag, t] of [['--equalization', r.equalization], ['--smooth-quant', r.smoothQuant]] as const) {
    if (t !== 'on') continue;
    if (rangesGiven) throw new OptionError(`${flag} on changes the model before its ranges are calibrated; ranges from --ranges were recorded on the unchanged model: use --calib DATA instead`);
    if (!hasData) throw new OptionError(`${flag} on needs calibration data (--calib DATA)`);
  }
  if (r.biasCorrection === 'on' && !hasData) throw new OptionError('--bias-correction on measures the input means on calibration data: add --calib DATA');
  const transforms = !rangesGiven && hasData;
  const equalize = transforms && on(r.equalization, auto.equalization);
  const smooth = transforms && on(r.smoothQuant, auto.smoothQuant);
  let bias = hasData && r.biasCorrection === 'on';

  const decisions: RecoveryDecisions = {};
  const pairs = equalize ? convPairs(pre) : [];
  const targets = smooth ? smoothTargets(pre) : [];
  const prePass = [...equalizationRequests(pairs), ...smoothRequests(targets, r.alpha)];
  const stats = prePass.length ? await transformStatistics(pre, options, opts, engine, prePass) : undefined;
  let model = pre;
  if (pairs.length) {
    const eq = computeEqualization(pairs, stats);
    if (eq.pairs.length) {
      model = cloneModel(pre);
      applyEqualization(model, eq.pairs);
      decisions.equalization = eq.pairs;
      const absorbed = eq.pairs.filter((p) => p.absorbed).length;
      notes.push(`cross-layer equalization: ${eq.pairs.length} convolution pair(s) rescaled${eq.clipped ? `, ${eq.clipped} of ${eq.channels} channels left unscaled because they reach their ReLU6 clip on the calibration data (Clip is not positive-homogeneous there)` : ''}${absorbed ? `; high bias absorbed into the next layer in ${absorbed} pair(s)` : ''}`);
    }
  }
  if (targets.length) {
    // Computed on `pre`: equalization touches convolutions only, smoothing LayerNorm -> MatMul.
    const smoothing = computeSmoothing(targets, stats, r.alpha, opts.perChannel);
    if (smoothing.length) {
      if (model === pre) model = cloneModel(pre);
      applySmoothing(model, smoothing);
      decisions.smoothing = smoothing;
      const alphas = r.alpha === 'search' ? `alpha searched per layer: ${smoothing.map((d) => d.alpha).join(', ')}; ${targets.length - smoothing.length} of ${targets.length} left alone, no alpha predicted a gain` : `alpha ${r.alpha}`;
      notes.push(`SmoothQuant: ${smoothing.length} activation(s) (LayerNorm or Mul outputs) smoothed into ${smoothing.reduce((s, d) => s + d.consumers.length, 0)} MatMul weight(s) (${alphas})`);
    }
  }
  if (r.biasCorrection === 'auto' && auto.biasCorrection && hasData && decisions.equalization?.length) bias = true;
  if (r.biasCorrection === 'analytic') {
    // No data: the means come from the BatchNorms (analytic-means.ts); nothing to request.
    const layers = correctableLayers(model);
    const means = analyticMeans(pre, layers, batchNormDeviations(original));
    decisions.biasCorrection = 'analytic';
    decisions.biasMeans = Object.fromEntries(means);
    notes.push(`analytic bias correction: input means of ${new Set(layers.filter((l) => means.has(l.input)).map((l) => l.node.name)).size} of ${layers.length} layer(s) computed from the BatchNorm before them; the others (no BatchNorm before them) are left alone`);
    return { model, decisions, notes, requests: [], biasCorrection: true };
  }
  const requests = bias ? biasMeanRequests(correctableLayers(model)) : [];
  if (bias) decisions.biasCorrection = 'empirical';
  return { model, decisions, notes, requests, biasCorrection: bias };
}

/** The one extra pass the transforms need (see the header), on the unchanged pre-processed model. */
async function transformStatistics(pre: Model, options: StaticQuantizeOptions, opts: ResolvedStaticOptions, engine: Engine, requests: StatRequest[]): Promise<Statistics> {
  return collectStatistics(pre, options.calibration!, requests, {
    engine,
    data: opts.calibSize !== undefined ? { limit: opts.calibSize } : {},
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Bias means from the calibration pass (or the decisions of a replay), recorded in `decisions`. */
export function recoveryData(prepared: PreparedRecovery, stats: Statistics | undefined): RecoveryData | undefined {
  const d = prepared.decisions;
  if (!prepared.biasCorrection) return undefined;
  if (!d.biasMeans && stats) {
    const means: Record<string, number[]> = {};
    for (const req of prepared.requests) {
      if (req.kind !== 'channel-mean') continue;
      const s = stats.get(req);
      if (s && s.means.every(Number.isFinite)) means[req.tensor] = Array.from(s.means);
    }
    d.biasMeans = means;
  }
  return d.biasMeans ? { means: new Map(Object.entries(d.biasMeans)), meansFrom: d.biasCorrection === 'analytic' ? 'analytic' : 'empirical' } : undefined;
}
