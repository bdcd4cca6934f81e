/**
 * Symmetric per-channel (or per-tensor) weights for the dynamic mode's integer kernels, on top of
 * the shared weight arithmetic (weights.ts) and the target's storage choice (weight-encoding.ts),
 * plus the transpose the weight layouts need.
 */
import { DataType } from '../ir/data-type.js';
import { Tensor } from '../ir/tensor.js';
import { channelAbsMax, quantizeWeight, symmetricWeightScales } from './weights.js';
import { encodeWeightScales, type EncodingContext, type KernelSums, type WeightEncoding } from './weight-encoding.js';

export interface ChannelQuantized {
  values: Int8Array;
  /** One scale per channel (length 1 when per tensor). */
  scales: Float32Array;
}

/** Quantizes `w` (row-major, shape `dims`) to plain int8 with one scale per index of `axis`, or one overall when undefined. */
export function quantizeSymmetric(w: Float32Array, dims: readonly number[], axis: number | undefined, reduceRange: boolean): ChannelQuantized {
  const ax = axis ?? null;
  const ws = symmetricWeightScales(channelAbsMax(w, dims, ax), 'int8', reduceRange);
  const q = quantizeWeight(Tensor.float([...dims], w), ax, ws, 'int8');
  return { values: q.data() as Int8Array, scales: ws.scales };
}

export interface KernelWeight {
  /** int8 (zero point 0) or uint8 (zero point 128) values, shape `dims`. */
  values: Int8Array | Uint8Array;
  type: 'int8' | 'uint8';
  scales: Float32Array;
  /** The zero point every channel shares: 0 for int8, 128 for uint8. */
  zeroPoint: number;
  encoding: WeightEncoding;
  channelsAtRisk: number;
}

/**
 * Quantizes a weight of an integer GEMM for the target (weight-encoding.ts decides int8 or uint8).
 * The GEMMs of the dynamic ops reduce over each output channel's values in row-major order: a
 * [K, N] weight per column, or a [rows, K] one per row; `kernel` gives that view when the scales'
 * layout differs (per tensor, per direction).
 */
export function quantizeForKernel(w: Float32Array, dims: readonly number[], axis: number | undefined, ctx: EncodingContext, kernel: Omit<KernelSums, 'order'> = {}): KernelWeight {
  const ax = axis ?? null;
  const e = encodeWeightScales(w, dims, ax, ctx, { order: 'natural', ...kernel });
  const q = quantizeWeight(Tensor.float([...dims], w), ax, e.scales, e.type);
  return { values: q.data() as Int8Array | Uint8Array, type: e.type, scales: e.scales.scales, zeroPoint: e.type === 'uint8' ? 128 : 0, encoding: e.encoding, channelsAtRisk: e.channelsAtRisk };
}

/** A zero-point tensor of `count` channels (scalar when `dims` is []), in the weight's type. */
export function zeroPointTensor(w: KernelWeight, dims: number[]): Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  return w.type === 'uint8' ? Tensor.fromTyped(DataType.UINT8, dims, new Uint8Array(count).fill(128)) : Tensor.fromTyped(DataType.INT8, dims, new Int8Array(count));
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d<T extends Float32Array | Int8Array | Uint8Array>(m: T, rows: number, cols: number): T {
  const out = new (m.constructor as new (n: number) => T)(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}
