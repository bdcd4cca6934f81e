/**
 * Range estimation: turns a tensor's statistics into a clipping range for a target. Every range
 * contains 0 (an integer grid must represent it exactly) and is symmetric for symmetric targets.
 */
import { OptionError } from '../../errors.js';
import type { QuantTarget, RangeMethod, StatRequest, TensorRange } from '../types.js';
import type { HistogramStat, MinMaxStat } from '../stats/results.js';
import { entropyRange } from './entropy.js';
import { mseRange } from './mse.js';
import { percentileRange } from './percentile.js';
import { coarsen, searchSpace } from './search-space.js';
import { quantSteps } from './target.js';

export interface RangeOptions {
  method: RangeMethod;
  target: QuantTarget;
  /** For 'percentile' (default 99.999). */
  percentile?: number;
  /** For 'minmax': the mean of the per-batch min and max instead of the extremes (ORT's CalibMovingAverage). */
  movingAverage?: boolean;
}

export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];
export const DEFAULT_PERCENTILE = 99.999;
const ENTROPY_BINS = 2048;

export function checkRangeOptions(o: RangeOptions): RangeOptions {
  if (!RANGE_METHODS.includes(o.method)) throw new OptionError(`--method: must be one of ${RANGE_METHODS.join(', ')} (got '${o.method}')`);
  const p = o.percentile;
  if (p !== undefined && !(p > 0 && p <= 100)) throw new OptionError(`--percentile: must be in (0, 100] (got ${p})`);
  return o;
}

/** The statistics a method needs on a tensor. */
export function requestsForRange(tensor: string, method: RangeMethod): StatRequest[] {
  return method === 'minmax' ? [{ tensor, kind: 'minmax' }] : [{ tensor, kind: 'minmax' }, { tensor, kind: 'histogram' }];
}

/** Widens to include 0, and makes it symmetric when asked. */
export function normalizeRange(r: TensorRange, symmetric: boolean): TensorRange {
  let min = Math.min(r.min, 0);
  let max = Math.max(r.max, 0);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 0 }; // nothing finite was seen
  if (symmetric) {
    const a = Math.max(-min, max);
    min = -a;
    max = a;
  }
  return { min: min === 0 ? 0 : min, max };
}

export function estimateRange(stats: { minmax: MinMaxStat; histogram?: HistogramStat | undefined }, options: RangeOptions): TensorRange {
  const { minmax } = stats;
  const symmetric = options.target.symmetric;
  const full = normalizeRange({ min: minmax.min, max: minmax.max }, symmetric);
  if (options.method === 'minmax') {
    return options.movingAverage ? normalizeRange({ min: minmax.meanMin, max: minmax.meanMax }, symmetric) : full;
  }
  const h = stats.histogram;
  if (!h) throw new Error(`range method '${options.method}' needs a histogram of '${minmax.tensor}'`);
  if (h.binWidth === 0 || h.total === 0) return full;
  switch (options.method) {
    case 'percentile':
      return normalizeRange(percentileRange(h, options.percentile ?? DEFAULT_PERCENTILE, symmetric), symmetric);
    case 'entropy':
      // TensorRT searches 2048 bins; finer grids only add noise (and time) to the KL curve.
      return normalizeRange(entropyRange(searchSpace(coarsen(h, ENTROPY_BINS), options.target), full).range, symmetric);
    case 'mse':
      return normalizeRange(mseRange(searchSpace(h, options.target), quantSteps(options.target), full).range, symmetric);
  }
}
