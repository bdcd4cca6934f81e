/**
 * The contract between calibration and the algorithms that use it (static quantization, GPTQ,
 * Wanda/SparseGPT pruning, mixed precision). Algorithms *request* statistics on named tensors; the
 * collector merges all requests, runs the data through the model once and streams each batch
 * through reducers, with memory independent of the number of samples.
 */
import type { Model } from '../ir/model.js';
import type { Engine } from '../runtime/engine.js';
import type { ProgressListener } from '../progress.js';
import type { SessionOptions } from '../runtime/types.js';
import type { Statistics } from './stats/statistics.js';

/** Statistics an algorithm can ask for on a tensor (by value name in the main graph). */
export type StatRequest =
  /** Global min and max (and how they evolved over the samples, for convergence diagnostics). */
  | { tensor: string; kind: 'minmax' }
  /** Histogram of the values, merged online (re-binned when the range widens). */
  | { tensor: string; kind: 'histogram'; bins?: number }
  /** Min and max per index along `axis` (per-channel activations). */
  | { tensor: string; kind: 'channel-minmax'; axis: number }
  /** L2 norm per index along `axis` over all samples (Wanda's input-feature norms). */
  | { tensor: string; kind: 'channel-l2'; axis: number }
  /** Mean per index along `axis` over all samples and positions (bias correction's E[x]). */
  | { tensor: string; kind: 'channel-mean'; axis: number }
  /** Mean magnitude E|x| per index along `axis` over all samples and positions (AWQ's activation scale). */
  | { tensor: string; kind: 'channel-abs-mean'; axis: number }
  /** Gram matrix X^T X of the tensor flattened to rows of its last axis (GPTQ / SparseGPT Hessians). */
  | { tensor: string; kind: 'xtx' }
  /**
   * Gram matrix X^T X computed inside ONNX Runtime (fast for wide layers): of the rows of the last
   * axis (`features` long), or with `conv`, of the patches that Conv multiplies with its weight
   * (`features` = input channels; one matrix per group, patch order = the weight's (channel, kernel
   * row, kernel column) order). `bias` appends a constant 1 to every row (least squares with a bias).
   */
  | { tensor: string; kind: 'gram'; features: number; conv?: ConvPatches; bias?: boolean };

/** A Conv's patch geometry (its attributes, defaults filled in). */
export interface ConvPatches {
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
  /** auto_pad when not NOTSET (then `pads` is ignored). */
  autoPad?: string;
}

export type StatKind = StatRequest['kind'];

/** How a clipping range is chosen from the statistics. */
export type RangeMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

/** The integer type a range is chosen for (entropy and MSE depend on it). */
export interface QuantTarget {
  type: 'uint8' | 'int8' | 'uint16' | 'int16';
  symmetric: boolean;
}

/** A real-valued clipping range for one tensor. */
export interface TensorRange {
  min: number;
  max: number;
}

export interface CalibrateOptions {
  /** Tensors to calibrate (default: every float activation in the main graph). */
  tensors?: string[];
  method?: RangeMethod;
  /** For method 'percentile' (default 99.999). */
  percentile?: number;
  /** For method 'minmax': mean of the per-batch min/max instead of the extremes (ORT's CalibMovingAverage). */
  movingAverage?: boolean;
  /** Target type the ranges are chosen for (default uint8 asymmetric); entropy and MSE depend on it. */
  target?: QuantTarget;
  /** Use at most this many samples (a deterministic subset; `--calib-size`). */
  limit?: number;
  /** Seed of that subset (default 0). */
  seed?: number;
  /** Samples per inference for models with a symbolic batch axis (default 16). */
  batchSize?: number;
  /** How to read `data` (image preprocessing, an iterable's transform, the labels key); the fields above win. */
  data?: import('./data/open.js').OpenDatasetOptions;
  /** Histogram values read per tensor over the run (whole tensors on a spread subset of batches; default 2^17, 0 = every batch). */
  histogramSample?: number;
  /** Memory the tensors fetched per batch may use (bytes); over it, batches shrink, then passes split. */
  memoryBudget?: number;
  /** More statistics to collect in the same pass (e.g. `xtx` for GPTQ); read them from `result.statistics`. */
  extraRequests?: StatRequest[];
  engine?: Engine;
  /** Options for the probe session when no engine is given (threads). */
  session?: SessionOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Per-tensor findings reported after calibration. */
export interface TensorDiagnostic {
  tensor: string;
  range: TensorRange;
  /** Extremes actually observed. */
  observed: TensorRange;
  /** Fraction of observed values outside the chosen range. */
  clippedFraction: number;
  /** Whether the last 10% of samples still widened the min/max range. */
  stillWidening: boolean;
  warnings: string[];
}

export interface CalibrationResult {
  method: RangeMethod;
  /** The target the ranges were chosen for. */
  target: QuantTarget;
  /** Percentile used (method 'percentile'), moving average (method 'minmax'). */
  percentile?: number;
  movingAverage?: boolean;
  /** Clipping range per tensor; every range contains 0 and is symmetric for symmetric targets. */
  ranges: Map<string, TensorRange>;
  samples: number;
  diagnostics: TensorDiagnostic[];
  /** sha256 of the model (src/onnx/hash.ts) and of the data, recorded in ranges.json. */
  modelHash: string;
  dataHash: string;
  /** Where the data came from (for reports). */
  dataSource?: string;
  /** Things to tell the user: skipped tensors, ignored arrays, subsets, conversions. */
  notes: string[];
  /** Everything collected (absent when loaded from ranges.json); re-estimate with estimateRange(). */
  statistics?: Statistics;
}

/**
 * Signature of the public entry point (src/calibrate/calibrate.ts). `data` is anything openDataset
 * accepts: a path, a Dataset, an (async) iterable of feeds.
 */
export type CalibrateFn = (model: Model, data: import('./data/open.js').DataSource, options?: CalibrateOptions) => Promise<CalibrationResult>;
