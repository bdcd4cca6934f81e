/**
 * Choosing which weights to zero from their scores (|w| for magnitude, |w| x ||x_j|| for Wanda):
 * exactly `count` lowest per layer or per row, or N of every M along the reduction. Masks are
 * Uint8Array, 1 = pruned. Ties are broken by position, so a run is deterministic.
 */

/** The k-th smallest value (0-based) of `values` (not modified), by quickselect on a copy. */
export function kthSmallest(values: Float32Array | Float64Array, k: number): number {
  // A copy of the same width: 25M scores of a ResNet-50 stay at 100 MB.
  const a = values instanceof Float32Array ? Float32Array.from(values) : Float64Array.from(values);
  if (k < 0 || k >= a.length) throw new RangeError(`kthSmallest: k=${k} outside 0..${a.length - 1}`);
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    // Median of three keeps sorted and constant inputs linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!; a[i] = a[j]!; a[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Marks the `count` lowest scores of `scores[start..end)` in `mask` (ties: earlier positions first). */
export function pruneLowest(scores: Float32Array, mask: Uint8Array, count: number, start = 0, end = scores.length): void {
  const n = end - start;
  if (count <= 0) return;
  if (count >= n) {
    mask.fill(1, start, end);
    return;
  }
  const t = kthSmallest(scores.subarray(start, end), count - 1);
  let left = count;
  for (let i = start; i < end && left > 0; i++) if (scores[i]! < t) { mask[i] = 1; left--; }
  for (let i = start; i < end && left > 0; i++) if (scores[i] === t && !mask[i]) { mask[i] = 1; left--; }
}

/** Per layer: the `round(sparsity x size)` lowest scores. */
export function maskLayer(scores: Float32Array, sparsity: number): Uint8Array {
  const mask = new Uint8Array(scores.length);
  pruneLowest(scores, mask, Math.round(sparsity * scores.length));
  return mask;
}

/** Per output row (Wanda's comparison group): the same fraction of every row. */
export function maskPerRow(scores: Float32Array, rows: number, cols: number, sparsity: number): Uint8Array {
  const mask = new Uint8Array(scores.length);
  const count = Math.round(sparsity * cols);
  for (let r = 0; r < rows; r++) pruneLowest(scores, mask, count, r * cols, (r + 1) * cols);
  return mask;
}

/**
 * N:M: in every group of M consecutive weights along the reduction (consecutive in `order`, the
 * positions of a row in the order the hardware groups them), keep the N highest scores.
 */
export function maskNM(scores: Float32Array, rows: number, cols: number, order: Int32Array, n: number, m: number): Uint8Array {
  const mask = new Uint8Array(scores.length);
  const drop = m - n;
  const idx = new Int32Array(m);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < cols; g += m) {
      for (let k = 0; k < m; k++) idx[k] = base + order[g + k]!;
      // Selection sort of M (2..16) scores: the drop lowest, earlier positions first on ties.
      for (let d = 0; d < drop; d++) {
        let best = -1;
        for (let k = 0; k < m; k++) {
          const i = idx[k]!;
          if (mask[i]) continue;
          if (best < 0 || scores[i]! < scores[best]!) best = i;
        }
        mask[best] = 1;
      }
    }
  }
  return mask;
}

/**
 * The order in which N:M groups a row: along input channels at each kernel tap (the layout sparse
 * tensor cores read: channels innermost), or the reduction as it is for MatMul/Gemm. Undefined
 * with the reason when a group of M cannot be formed.
 */
export function nmOrder(cols: number, taps: number, m: number): Int32Array | string {
  const channels = cols / taps;
  if (channels < m) return `${channels} input channel${channels === 1 ? '' : 's'} per output: no group of ${m} along the reduction`;
  if (channels % m !== 0) return `${channels} input channels per output is not a multiple of ${m}`;
  const order = new Int32Array(cols);
  // Position k = tap * channels + c reads weight column c * taps + tap.
  for (let tap = 0; tap < taps; tap++) for (let c = 0; c < channels; c++) order[tap * channels + c] = c * taps + tap;
  return order;
}

/** Zeroes the masked entries. */
export function applyMask(w: Float32Array, mask: Uint8Array): void {
  for (let i = 0; i < w.length; i++) if (mask[i]) w[i] = 0;
}
