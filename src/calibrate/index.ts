/** Calibration: data sources, statistics, range estimators, ranges.json. */
export * from './types.js';
export { calibrate } from './calibrate.js';
export { openDataset, type DataSource, type OpenDatasetOptions } from './data/open.js';
export { ModelDataset, DEFAULT_BATCH_SIZE, type BindOptions } from './data/model-dataset.js';
export { modelInputs, type InputSpec, type InputLayout } from './data/model-inputs.js';
export type { Batch, BatchOptions, Dataset } from './data/dataset.js';
export { NpzDataset } from './data/npz-dataset.js';
export { NpzFile, encodeNpz } from './data/npz.js';
export { parseNpy, encodeNpy } from './data/npy.js';
export { collectStatistics, type CollectOptions } from './stats/collector.js';
export { Statistics } from './stats/statistics.js';
export { defaultCalibrationTensors } from './stats/tensors.js';
export type { MinMaxStat, HistogramStat, ChannelMinMaxStat, ChannelL2Stat, XtxStat, StatResult, Widening } from './stats/results.js';
export { estimateRange, requestsForRange, normalizeRange, RANGE_METHODS, DEFAULT_PERCENTILE, type RangeOptions } from './ranges/estimate.js';
export { DEFAULT_TARGET, quantSteps, targetBits, formatTarget } from './ranges/target.js';
export { saveRanges, loadRanges, rangesDocument, RANGES_SCHEMA, type RangesFile, type LoadRangesOptions } from './store.js';
