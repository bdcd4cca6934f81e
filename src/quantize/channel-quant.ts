/**
 * Symmetric int8 weights per channel (or per tensor) for the dynamic mode's integer kernels, on top
 * of the shared weight arithmetic (weights.ts: zero point 0, scale = absmax / 127, or / 64 with
 * reduce-range), plus the transpose the weight layouts need.
 */
import { Tensor } from '../ir/tensor.js';
import { channelAbsMax, quantizeWeight, symmetricWeightScales } from './weights.js';

export interface ChannelQuantized {
  values: Int8Array;
  /** One scale per channel (length 1 when per tensor). */
  scales: Float32Array;
}

/** Quantizes `w` (row-major, shape `dims`) with one scale per index of `axis`, or one overall when undefined. */
export function quantizeSymmetric(w: Float32Array, dims: readonly number[], axis: number | undefined, reduceRange: boolean): ChannelQuantized {
  const ax = axis ?? null;
  const ws = symmetricWeightScales(channelAbsMax(w, dims, ax), 'int8', reduceRange);
  const q = quantizeWeight(Tensor.float([...dims], w), ax, ws, 'int8');
  return { values: q.data() as Int8Array, scales: ws.scales };
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d<T extends Float32Array | Int8Array | Uint8Array>(m: T, rows: number, cols: number): T {
  const out = new (m.constructor as new (n: number) => T)(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}
