/**
 * Datasets: where calibration and evaluation data come from. Every source (npz, npy directories,
 * ONNX test-data directories, images, JSON, async iterables) is a Dataset that yields batches of
 * feeds whose first axis is the sample axis, with optional labels.
 */
import type { Feeds, TensorData } from '../../runtime/types.js';

export interface Batch {
  /** Model input name -> tensor with `count` samples along axis 0. */
  feeds: Feeds;
  /** Labels of these samples (first axis = samples), when the data has them. */
  labels?: TensorData;
  /** Samples in this batch. */
  count: number;
  /** Index of the batch's first sample in the dataset. */
  first: number;
}

export interface BatchOptions {
  /** Stop after this many samples. */
  limit?: number;
  /**
   * Yield exactly these samples, in this order (a deterministic subset). Only datasets with a known
   * `size` support it; streaming sources ignore it and the caller falls back to `limit`.
   */
  indices?: readonly number[];
  signal?: AbortSignal;
}

export interface Dataset {
  /** Where the data comes from, for messages ('data/calib.npz'). */
  readonly source: string;
  /** Number of samples, when known up front. */
  readonly size: number | undefined;
  /** Names of the arrays/inputs it provides. */
  readonly inputNames: readonly string[];
  readonly hasLabels: boolean;
  /** Per-input sample shape (without the sample axis) and type, when known up front. */
  readonly sampleInfo?: Readonly<Record<string, { type: TensorData['type']; dims: number[] }>>;
  /** Every value was already checked for NaN/Inf when the data was opened (batches need no second check). */
  readonly finiteChecked?: boolean;
  /** Arrays the source holds that were left unread because the model does not take them (ids, texts, metadata). */
  readonly ignored?: readonly string[];
  batches(batchSize: number, options?: BatchOptions): AsyncIterable<Batch>;
}

/** Rows [start, end) of a tensor along axis 0 (a view, no copy). */
export function sliceRows(t: TensorData, start: number, end: number): TensorData {
  const rows = t.dims[0] ?? 1;
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  if (Array.isArray(t.data)) return { type: t.type, dims: [end - start, ...t.dims.slice(1)], data: t.data.slice(start * per, end * per) };
  if (end > rows) end = rows;
  return { type: t.type, dims: [end - start, ...t.dims.slice(1)], data: t.data.subarray(start * per, end * per) };
}

/** The rows at `indices` along axis 0, gathered into a new tensor (one copy). */
export function gatherRows(t: TensorData, indices: readonly number[]): TensorData {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const dims = [indices.length, ...t.dims.slice(1)];
  if (Array.isArray(t.data)) return { type: t.type, dims, data: indices.flatMap((i) => (t.data as string[]).slice(i * per, (i + 1) * per)) };
  const src = t.data;
  const out = new (src.constructor as new (n: number) => typeof src)(indices.length * per);
  indices.forEach((row, k) => (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(src.subarray(row * per, (row + 1) * per) as ArrayLike<unknown>, k * per));
  return { type: t.type, dims, data: out };
}

/** Concatenates tensors along axis 0 (all must share type and trailing dims). */
export function concatRows(parts: TensorData[]): TensorData {
  const first = parts[0]!;
  const rows = parts.reduce((s, p) => s + (p.dims[0] ?? 1), 0);
  if (parts.length === 1) return first;
  if (Array.isArray(first.data)) return { type: first.type, dims: [rows, ...first.dims.slice(1)], data: parts.flatMap((p) => p.data as string[]) };
  const Ctor = first.data.constructor as new (n: number) => typeof first.data;
  const total = parts.reduce((s, p) => s + (p.data as ArrayLike<unknown>).length, 0);
  const out = new Ctor(total);
  let off = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p.data as ArrayLike<unknown>, off);
    off += (p.data as ArrayLike<unknown>).length;
  }
  return { type: first.type, dims: [rows, ...first.dims.slice(1)], data: out };
}
