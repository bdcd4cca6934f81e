/**
 * calibrate(): runs the data through the model once and returns a clipping range per tensor, with
 * diagnostics. Static quantization calls it with the tensors it will quantize and its target; the
 * CLI (`slimnet calibrate`) saves the result as ranges.json.
 */
import type { Model } from '../ir/model.js';
import { OptionError } from '../errors.js';
import { modelHash } from '../onnx/hash.js';
import type { CalibrateFn, CalibrateOptions, CalibrationResult, StatRequest, TensorDiagnostic, TensorRange } from './types.js';
import type { DataSource } from './data/open.js';
import { collectStatistics } from './stats/collector.js';
import { defaultCalibrationTensors } from './stats/tensors.js';
import { checkRangeOptions, estimateRange, requestsForRange, DEFAULT_PERCENTILE, type RangeOptions } from './ranges/estimate.js';
import { checkTarget, DEFAULT_TARGET } from './ranges/target.js';
import { diagnoseSet, diagnoseTensor } from './diagnostics.js';

/**
 * Calibrates `model` on `data` (a path such as calib.npz, or any Dataset; see openDataset).
 * Defaults: every float activation of the main graph, method 'minmax', target uint8 asymmetric.
 * Pass `extraRequests` to collect more statistics in the same pass; they are in `result.statistics`.
 */
export const calibrate: CalibrateFn = async (model: Model, data: DataSource, options: CalibrateOptions = {}): Promise<CalibrationResult> => {
  const rangeOptions: RangeOptions = checkRangeOptions({
    method: options.method ?? 'minmax',
    target: checkTarget(options.target ?? DEFAULT_TARGET),
    ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
    ...(options.movingAverage ? { movingAverage: true } : {}),
  });
  const tensors = options.tensors ?? defaultCalibrationTensors(model);
  if (tensors.length === 0) throw new OptionError(`${model.label()}: no tensors to calibrate`);
  const requests: StatRequest[] = tensors.flatMap((t) => requestsForRange(t, rangeOptions.method));
  // Diagnostics for moving-average ranges need to know what they clip.
  if (rangeOptions.movingAverage) requests.push(...tensors.map((t): StatRequest => ({ tensor: t, kind: 'histogram' })));
  requests.push(...(options.extraRequests ?? []));
  const bindOptions = { ...options.data, ...(options.limit !== undefined ? { limit: options.limit } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) };
  const stats = await collectStatistics(model, data, requests, {
    data: bindOptions,
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.session ? { session: options.session } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.histogramSample !== undefined ? { histogramSample: options.histogramSample } : {}),
    ...(options.memoryBudget !== undefined ? { memoryBudget: options.memoryBudget } : {}),
  });
  const ranges = new Map<string, TensorRange>();
  const diagnostics: TensorDiagnostic[] = [];
  const minmaxes = [];
  for (const t of tensors) {
    const minmax = stats.minmax(t);
    if (!minmax) continue; // skipped: not a float tensor (see notes)
    minmaxes.push(minmax);
    const histogram = stats.histogram(t);
    const range = estimateRange({ minmax, histogram }, rangeOptions);
    ranges.set(t, range);
    diagnostics.push(diagnoseTensor(minmax, histogram, range));
  }
  const result: CalibrationResult = {
    method: rangeOptions.method,
    target: rangeOptions.target,
    ranges,
    samples: stats.samples,
    diagnostics,
    modelHash: modelHash(model),
    dataHash: stats.dataHash,
    dataSource: typeof data === 'string' ? data : ((data as { source?: string }).source ?? 'an iterable'),
    notes: [...stats.notes, ...diagnoseSet(stats.samples, stats.batches, minmaxes)],
    statistics: stats,
  };
  if (rangeOptions.method === 'percentile') result.percentile = rangeOptions.percentile ?? DEFAULT_PERCENTILE;
  if (rangeOptions.movingAverage) result.movingAverage = true;
  return result;
};
