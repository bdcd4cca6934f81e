/** Stacking single samples into batches along a new leading axis. */
import type { TensorData } from '../../runtime/types.js';

/** [count, ...dims] from `count` tensors of identical dims and type. */
export function stackSamples(samples: readonly TensorData[]): TensorData {
  const first = samples[0]!;
  const dims = [samples.length, ...first.dims];
  if (Array.isArray(first.data)) return { type: first.type, dims, data: samples.flatMap((s) => s.data as string[]) };
  const per = first.data.length;
  const out = new (first.data.constructor as new (n: number) => typeof first.data)(per * samples.length);
  samples.forEach((s, i) => (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(s.data as ArrayLike<unknown>, i * per));
  return { type: first.type, dims, data: out };
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const formatDims = (d: readonly number[]) => `[${d.join(',')}]`;
