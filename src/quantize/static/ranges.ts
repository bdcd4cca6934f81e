/**
 * Where the activation ranges come from: a Map given by the caller, a ranges.json file written by
 * `slimnet calibrate`, or calibration data run through the calibrator.
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { TensorRange } from '../../calibrate/types.js';
import { OptionError } from '../../errors.js';
import type { Feeds } from '../../runtime/types.js';
import type { Dataset } from '../../calibrate/data/dataset.js';
import { NpzDataset } from '../../calibrate/data/npz-dataset.js';
import type { ResolvedStaticOptions, StaticQuantizeOptions } from './options.js';

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
}

async function firstSample(data: Dataset): Promise<Feeds | undefined> {
  for await (const b of data.batches(1, { limit: 1 })) return b.feeds;
  return undefined;
}

export async function resolveRanges(
  model: Model, options: StaticQuantizeOptions, opts: ResolvedStaticOptions, _engine: Engine,
): Promise<ResolvedRanges> {
  const data = typeof options.calibration === 'string'
    ? new NpzDataset(options.calibration, { inputs: model.graph.inputs.map((v) => v.name) })
    : options.calibration;
  const sample = data ? await firstSample(data) : undefined;
  if (options.ranges instanceof Map) return { ranges: options.ranges, source: { source: 'ranges given by the caller', method: opts.method }, ...(sample ? { sample } : {}) };
  throw new OptionError('static quantization needs calibration data (--calib) or ranges (--ranges)');
}
