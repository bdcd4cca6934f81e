/**
 * The input the placements are timed on: `--timing-batch N` samples per run. At batch 1 a 28x28
 * model runs in ~0.1 ms, where ORT's fixed per-op cost weighs as much as the kernels and no int8
 * placement is clearly faster; at the batch it is deployed at, the kernels decide. So the search
 * times what the user will run, on this CPU.
 */
import type { Model } from '../../ir/model.js';
import type { Feeds } from '../../runtime/types.js';
import { modelInputs } from '../../calibrate/data/model-inputs.js';
import { concatRows } from '../../calibrate/data/dataset.js';
import { dataFeeds } from '../../eval/bench-feeds.js';
import type { DataSource } from '../../calibrate/data/open.js';
import { OptionError } from '../../errors.js';

/**
 * `batch` samples per run: the first `batch` calibration samples when there is calibration data,
 * else the (synthetic, batch-1) `sample` repeated. Refused, naming the input, when the model fixes
 * its batch axis to another size.
 */
export async function timingFeeds(pre: Model, sample: Feeds | undefined, batch: number, calibration: DataSource | undefined): Promise<Feeds | undefined> {
  if (batch === 1 || !sample) return sample;
  for (const input of modelInputs(pre)) {
    const d = input.shape?.[0];
    if (typeof d === 'number' && d !== batch) throw new OptionError(`--timing-batch ${batch}: input '${input.name}' of ${pre.label()} has a fixed batch axis of ${d}; drop --timing-batch (or give ${d})`);
  }
  if (calibration !== undefined) {
    const { feeds, count } = await dataFeeds(calibration, pre, batch);
    if (count !== batch) throw new OptionError(`--timing-batch ${batch}: the calibration data gave ${count} samples per run; give at least ${batch} samples`);
    return feeds;
  }
  return Object.fromEntries(Object.entries(sample).map(([name, t]) => [name, concatRows(new Array(batch).fill(t))]));
}
