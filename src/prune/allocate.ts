/**
 * How a target sparsity is spread over layers. 'layer': the same in every layer. 'global': one
 * threshold on |w| over all pruned layers, so layers with many small weights give more; the
 * fractions it implies are then handed to the method (Wanda, SparseGPT) to choose the zeros within
 * each layer. 'sensitivity' lives in sensitivity.ts.
 */
import { readRows, type WeightTarget } from './targets.js';
import { kthSmallest } from './unstructured/select.js';

export function uniformSparsity(targets: readonly WeightTarget[], sparsity: number): Map<WeightTarget, number> {
  return new Map(targets.map((t) => [t, sparsity]));
}

/** Per-layer fractions of one global magnitude threshold that zeroes `sparsity` of all weights. */
export function globalMagnitudeSparsity(targets: readonly WeightTarget[], sparsity: number): Map<WeightTarget, number> {
  const sizes = targets.map((t) => t.rows * t.cols);
  const total = sizes.reduce((a, b) => a + b, 0);
  const all = new Float32Array(total);
  let off = 0;
  for (const t of targets) {
    const w = readRows(t);
    for (let i = 0; i < w.length; i++) all[off + i] = Math.abs(w[i]!);
    off += w.length;
  }
  const count = Math.round(sparsity * total);
  const out = new Map<WeightTarget, number>();
  if (count === 0) return uniformSparsity(targets, 0);
  const threshold = kthSmallest(all, count - 1);
  // Weights below the threshold, then ties in layer order, until `count` are taken.
  let left = count;
  const below = targets.map((_, i) => {
    let n = 0;
    const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    for (let j = start; j < start + sizes[i]!; j++) if (all[j]! < threshold) n++;
    left -= n;
    return n;
  });
  targets.forEach((t, i) => {
    const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    let n = below[i]!;
    for (let j = start; j < start + sizes[i]! && left > 0; j++) if (all[j] === threshold) { n++; left--; }
    out.set(t, n / sizes[i]!);
  });
  return out;
}
