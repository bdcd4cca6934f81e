/**
 * A reducer folds one tensor's values, batch by batch, into a fixed-size summary. Memory never
 * depends on how many samples pass through; the hot loops run over typed arrays.
 */
import type { StatRequest } from '../types.js';
import type { StatResult } from './results.js';
import { MinMaxReducer } from './minmax.js';
import { HistogramReducer } from './histogram.js';
import { ChannelAbsMeanReducer, ChannelL2Reducer, ChannelMeanReducer, ChannelMinMaxReducer } from './channel.js';
import { XtxReducer } from './xtx.js';
import { GramReducer } from './gram.js';
import type { SubgraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';

/** What one batch brings a reducer. */
export interface BatchValues {
  /** The tensor's values, flat in row-major order with shape `dims`; absent on batches a histogram skips. */
  values?: Float32Array;
  dims: readonly number[];
  /** Exact extremes per row of axis 0 (or one row for the batch), computed inside the runtime. */
  rowMin?: Float32Array;
  rowMax?: Float32Array;
  /** Samples in the batch, and samples before it. */
  samples: number;
  seen: number;
}

export interface Reducer {
  readonly request: StatRequest;
  /**
   * Whether it needs every value of every batch, every value of some batches plus the exact
   * extremes of all, the extremes only, or ('derived') a reduction it adds to the probe with
   * `derive`, whose output it then receives as `values` on every batch.
   */
  readonly needs: 'extremes' | 'sample' | 'full' | 'derived';
  /** For 'derived': adds nodes computing the reduction of `x`, with output name `output`. */
  derive?(b: SubgraphBuilder, x: Value, output: string): Value;
  /** For 'derived': bytes of the output per batch. */
  readonly derivedBytes?: number;
  update(batch: BatchValues): void;
  result(): StatResult;
}

export function createReducer(request: StatRequest, opset = 21): Reducer {
  switch (request.kind) {
    case 'minmax': return new MinMaxReducer(request);
    case 'histogram': return new HistogramReducer(request);
    case 'channel-minmax': return new ChannelMinMaxReducer(request);
    case 'channel-l2': return new ChannelL2Reducer(request);
    case 'channel-mean': return new ChannelMeanReducer(request);
    case 'channel-abs-mean': return new ChannelAbsMeanReducer(request);
    case 'xtx': return new XtxReducer(request);
    case 'gram': return new GramReducer(request, opset);
  }
}

/** A negative axis counted from the end, checked against the rank. */
export function normalizeAxis(axis: number, rank: number, tensor: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`axis ${axis} is out of range for tensor '${tensor}' of rank ${rank}`);
  return a;
}
