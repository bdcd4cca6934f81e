/**
 * Where the activation ranges come from: a Map given by the caller, a ranges.json file written by
 * `slimnet calibrate`, or calibration data run through the calibrator (on the pre-processed model,
 * so the tensors calibrated are the ones that will run; If-branch tensors through the probe).
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { QuantTarget, StatRequest, TensorRange } from '../../calibrate/types.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import { DataType } from '../../ir/data-type.js';
import { inferElemTypes } from '../../ir/elem-types.js';
import { calibrate } from '../../calibrate/calibrate.js';
import { openDataset } from '../../calibrate/data/open.js';
import { modelInputs } from '../../calibrate/data/model-inputs.js';
import { loadRanges } from '../../calibrate/store.js';
import { OptionError } from '../../errors.js';
import { opSupport } from '../../ops/op-support.js';
import type { Value } from '../../ir/value.js';
import type { ResolvedStaticOptions, StaticQuantizeOptions } from './options.js';
import { buildProbe, probeableGraphs } from './subgraph-probe.js';

export interface RangeSource {
  source: string;
  method: string;
  samples?: number;
}

export interface ResolvedRanges {
  ranges: Map<string, TensorRange>;
  source: RangeSource;
  /** One sample of the calibration data (batch 1), to time the model with (timing-feeds.ts widens it to --timing-batch). */
  sample?: Feeds;
  /** What the calibrator wants the user to know (skipped tensors, subsets, ...). */
  notes: string[];
  /** The extra statistics requested (collected in the calibration pass, or in one pass when the ranges were given). */
  statistics?: Statistics;
}

/** Float activations the planner may need a range for: main graph and If branches. */
export function calibrationTensors(model: Model): string[] {
  const types = inferElemTypes(model.graph);
  const graphs = new Set(probeableGraphs(model.graph));
  const names: string[] = [];
  for (const [v, t] of types) {
    if (t !== DataType.FLOAT || v.constant || !v.graph || !graphs.has(v.graph)) continue;
    if (v.graph !== model.graph && !v.producer) continue; // branch inputs do not exist; outer values are calibrated outside
    names.push(v.name);
  }
  return names;
}

/** The first `count` samples of the calibration data, one per feed (batch 1). */
export async function calibrationSamples(model: Model, source: NonNullable<StaticQuantizeOptions['calibration']>, count: number): Promise<Feeds[]> {
  const data = await openDataset(source, model, { limit: count, batchSize: 1 });
  const out: Feeds[] = [];
  for await (const b of data.batches(1, { limit: count })) out.push(b.feeds);
  return out;
}

async function firstSample(model: Model, source: NonNullable<StaticQuantizeOptions['calibration']>): Promise<Feeds | undefined> {
  return (await calibrationSamples(model, source, 1))[0];
}

/**
 * Without calibration data (ranges given), placements are still timed on a synthetic input: values
 * spread over each input's recorded range, symbolic batch axis 1. Speed barely depends on the
 * values; an input whose other dimensions are symbolic (image height, sequence length) cannot be
 * sized, and then nothing is timed.
 */
function timingSample(pre: Model, ranges: Map<string, TensorRange>, real: Feeds | undefined): { sample?: Feeds } {
  if (real) return { sample: real };
  const feeds: Feeds = {};
  for (const spec of modelInputs(pre)) {
    const shape = spec.shape;
    if (!shape || shape.slice(1).some((d) => typeof d !== 'number' || d < 1)) return {};
    const dims = shape.map((d) => (typeof d === 'number' && d >= 1 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    if (spec.type === 'float32') {
      const r = ranges.get(spec.name) ?? { min: 0, max: 1 };
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = r.min + ((i * 0.6180339887) % 1) * (r.max - r.min);
      feeds[spec.name] = { type: 'float32', dims, data };
    } else if (spec.type === 'int64') {
      feeds[spec.name] = { type: 'int64', dims, data: new BigInt64Array(n) };
    } else {
      return {};
    }
  }
  return { sample: feeds };
}

/**
 * Ranges recorded on the original model may miss tensors that pre-processing created (ORT's basic
 * optimizer turns several Gathers into one Split with new output names, for example). A missing
 * tensor produced by a data-movement op holds a subset of its input's values, so it takes the
 * range of that input (looked up through chains of such ops). Anything else stays missing and the
 * planner reports it.
 */
export function completeRanges(pre: Model, given: Map<string, TensorRange>, notes: string[]): Map<string, TensorRange> {
  const ranges = new Map(given);
  const derived: string[] = [];
  const byName = new Map<string, Value>();
  for (const g of probeableGraphs(pre.graph)) for (const v of g.values()) byName.set(v.name, v);
  const lookup = (v: Value | null | undefined, depth: number): TensorRange | undefined => {
    if (!v || depth > 16) return undefined;
    const r = ranges.get(v.name);
    if (r) return r;
    const p = v.producer;
    if (!p || opSupport(p.opType, p.domain)?.role !== 'scale-sharing') return undefined;
    return lookup(p.input(0), depth + 1);
  };
  for (const name of calibrationTensors(pre)) {
    if (ranges.has(name)) continue;
    const r = lookup(byName.get(name), 0);
    if (r) {
      ranges.set(name, r);
      derived.push(name);
    }
  }
  if (derived.length) {
    notes.push(`${derived.length} tensor${derived.length > 1 ? 's' : ''} of the pre-processed model (e.g. '${derived[0]}') had no recorded range; each takes the range of the tensor it is moved from by data-movement ops`);
  }
  return ranges;
}

/**
 * `original` is the model as the user gave it (ranges.json records its hash); `pre` the
 * pre-processed one the plan is made for.
 */
export async function resolveRanges(
  original: Model, pre: Model, options: StaticQuantizeOptions, opts: ResolvedStaticOptions, engine: Engine, extraRequests: readonly StatRequest[] = [],
): Promise<ResolvedRanges> {
  const sample = options.calibration !== undefined ? await firstSample(pre, options.calibration) : undefined;
  const withSample = sample ? { sample } : {};
  // Ranges given: the extra statistics, if any, take one pass of their own over the calibration data.
  const extra = async () => (extraRequests.length && options.calibration !== undefined
    ? { statistics: await collectStatistics(pre, options.calibration, extraRequests, { engine, data: opts.calibSize !== undefined ? { limit: opts.calibSize } : {}, ...(options.signal ? { signal: options.signal } : {}) }) }
    : {});
  if (options.ranges instanceof Map) {
    const notes: string[] = [];
    const ranges = completeRanges(pre, options.ranges, notes);
    return { ranges, source: { source: 'ranges given by the caller', method: opts.method }, notes, ...timingSample(pre, ranges, sample), ...(await extra()) };
  }
  if (typeof options.ranges === 'string') {
    const r = loadRanges(options.ranges, original);
    const notes = [...r.notes];
    const ranges = completeRanges(pre, r.ranges, notes);
    return { ranges, source: { source: options.ranges, method: r.method, samples: r.samples }, notes, ...timingSample(pre, ranges, sample), ...(await extra()) };
  }
  if (options.calibration === undefined) {
    throw new OptionError('static quantization needs calibration data (--calib DATA) or ranges (--ranges ranges.json)');
  }
  const wanted = calibrationTensors(pre);
  const probe = buildProbe(pre, wanted);
  const branchTensors = new Set(probe.aliases.values());
  const tensors = [...wanted.filter((n) => !branchTensors.has(n)), ...probe.aliases.keys()];
  const target: QuantTarget = { type: opts.activations, symmetric: opts.symmetricActivations };
  const result = await calibrate(probe.model, options.calibration, {
    tensors, method: opts.method, target, engine, extraRequests: [...extraRequests],
    ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}),
    ...(opts.calibSize !== undefined ? { limit: opts.calibSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // A branch tensor that never held a value (its branch never ran) has no meaningful range.
  const unseen = new Set(result.diagnostics.filter((d) => !(d.observed.min <= d.observed.max)).map((d) => d.tensor));
  const ranges = new Map<string, TensorRange>();
  for (const [name, r] of result.ranges) {
    if (!unseen.has(name) && Number.isFinite(r.min) && Number.isFinite(r.max)) ranges.set(probe.aliases.get(name) ?? name, r);
  }
  const source = typeof options.calibration === 'string' ? options.calibration : options.calibration.source;
  return { ranges, source: { source, method: result.method, samples: result.samples }, notes: result.notes, ...withSample, ...(extraRequests.length ? { statistics: result.statistics } : {}) };
}
