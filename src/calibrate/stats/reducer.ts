/**
 * A reducer folds one tensor's values, batch by batch, into a fixed-size summary. Memory never
 * depends on how many samples pass through; the hot loops run over typed arrays.
 */
import type { StatRequest } from '../types.js';
import type { StatResult } from './results.js';
import { MinMaxReducer } from './minmax.js';
import { HistogramReducer } from './histogram.js';
import { ChannelL2Reducer, ChannelMinMaxReducer } from './channel.js';
import { XtxReducer } from './xtx.js';

export interface Reducer {
  readonly request: StatRequest;
  /**
   * Folds in one batch: `values` flat in row-major order with shape `dims`; `samples` samples in
   * the batch, `seen` samples before it.
   */
  update(values: Float32Array, dims: readonly number[], samples: number, seen: number): void;
  result(): StatResult;
}

export function createReducer(request: StatRequest): Reducer {
  switch (request.kind) {
    case 'minmax': return new MinMaxReducer(request);
    case 'histogram': return new HistogramReducer(request);
    case 'channel-minmax': return new ChannelMinMaxReducer(request);
    case 'channel-l2': return new ChannelL2Reducer(request);
    case 'xtx': return new XtxReducer(request);
  }
}

/** A negative axis counted from the end, checked against the rank. */
export function normalizeAxis(axis: number, rank: number, tensor: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`axis ${axis} is out of range for tensor '${tensor}' of rank ${rank}`);
  return a;
}
