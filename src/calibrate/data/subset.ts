/**
 * `--calib-size N`: a deterministic subset of N samples spread over the whole data set. Taking the
 * first N would be biased when files are sorted (by class, by recording); a seeded shuffle is not,
 * and the same seed always picks the same samples. Indices come back in file order so reading stays
 * sequential.
 */
import { mulberry32 } from '../../random.js';

/** `limit` sample indices out of `size` (all of them, in order, when limit >= size). */
export function subsetIndices(size: number, limit: number | undefined, seed = 0): number[] {
  const n = limit === undefined ? size : Math.min(size, limit);
  if (n >= size) return Array.from({ length: size }, (_, i) => i);
  // Partial Fisher-Yates over a sparse map: O(n) time and memory even when size is huge.
  const next = mulberry32(seed);
  const swapped = new Map<number, number>();
  const picked: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(next() * (size - i));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    picked.push(vj);
  }
  return picked.sort((a, b) => a - b);
}
