/**
 * Where the activation ranges come from: a Map given by the caller, a ranges.json file written by
 * `slimnet calibrate`, or calibration data run through the calibrator (on the pre-processed model,
 * so the tensors calibrated are the ones that will run; If-branch tensors through the probe).
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { QuantTarget, TensorRange } from '../../calibrate/types.js';
import { DataType } from '../../ir/data-type.js';
import { inferElemTypes } from '../../ir/elem-types.js';
import { calibrate } from '../../calibrate/calibrate.js';
import { openDataset } from '../../calibrate/data/open.js';
import { loadRanges } from '../../calibrate/store.js';
import { OptionError } from '../../errors.js';
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
  /** One sample of the calibration data (batch 1), to time the model with. */
  sample?: Feeds;
  /** What the calibrator wants the user to know (skipped tensors, subsets, ...). */
  notes: string[];
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

async function firstSample(model: Model, source: NonNullable<StaticQuantizeOptions['calibration']>): Promise<Feeds | undefined> {
  const data = await openDataset(source, model, { limit: 1, batchSize: 1 });
  for await (const b of data.batches(1, { limit: 1 })) return b.feeds;
  return undefined;
}

/**
 * `original` is the model as the user gave it (ranges.json records its hash); `pre` the
 * pre-processed one the plan is made for.
 */
export async function resolveRanges(
  original: Model, pre: Model, options: StaticQuantizeOptions, opts: ResolvedStaticOptions, engine: Engine,
): Promise<ResolvedRanges> {
  const sample = options.calibration !== undefined ? await firstSample(pre, options.calibration) : undefined;
  const withSample = sample ? { sample } : {};
  if (options.ranges instanceof Map) {
    return { ranges: options.ranges, source: { source: 'ranges given by the caller', method: opts.method }, notes: [], ...withSample };
  }
  if (typeof options.ranges === 'string') {
    const r = loadRanges(options.ranges, original);
    return { ranges: r.ranges, source: { source: options.ranges, method: r.method, samples: r.samples }, notes: r.notes, ...withSample };
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
    tensors, method: opts.method, target, engine,
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
  return { ranges, source: { source, method: result.method, samples: result.samples }, notes: result.notes, ...withSample };
}
