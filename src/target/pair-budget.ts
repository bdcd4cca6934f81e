/**
 * The int16 pair budget of x86 U8S8 kernels without VNNI. VPMADDUBSW multiplies uint8 activations
 * by int8 weights and adds each pair of products into an int16 that saturates at +-32,767. With
 * activations up to 255, a pair cannot saturate when its two weights, if of the same sign, sum to
 * at most 128 in magnitude (255 x 128 = 32,640); opposite signs never can (255 x 127 < 32,767).
 *
 * Which weights share an int16 was measured for every ORT 1.30 kernel (docs/research/x86-saturation.md):
 * reduction indices 2m and 2m+1, where the reduction runs over K for matrix multiplies (the rows of a
 * [K, N] weight, the columns of a transposed [N, K] one) and over (kh, kw, cin) for convolutions,
 * input channel innermost, within a group. 'any' bounds every possible pairing instead (the two
 * largest magnitudes of each sign), for layouts not in that list.
 */
import { splitChannels as split } from '../ir/channels.js';

/** Largest same-sign pair of int8 weights that cannot saturate. */
export const PAIR_BUDGET = 128;

/**
 * How a kernel pairs the reduction of one output channel:
 * - 'natural': the channel's values in row-major order (MatMul B [K, N] per column, Gemm B^T
 *   [N, K] per row, the [rows, K] gate weights of LSTM and attention);
 * - 'conv': a Conv weight [M, C/group, kh, kw] (axis 0), reduced in (kh, kw, c) order;
 * - 'any': whatever the order (the two largest same-sign magnitudes).
 */
export type PairOrder = 'natural' | 'conv' | 'any';

/**
 * Per output channel: the largest magnitude of a same-sign pair the kernel adds into one int16.
 * Works on float weights (to choose scales) and on int8 ones (to check them).
 */
export function channelPairMax(values: ArrayLike<number>, dims: readonly number[], axis: number | null, order: PairOrder = 'any'): Float64Array {
  if (order === 'conv') return convPairMax(values, dims);
  if (order === 'natural') return naturalPairMax(values, dims, axis);
  const { outer, channels, inner } = split(dims, axis);
  // Per channel: the two largest positive values and the two largest magnitudes of negatives.
  const p1 = new Float64Array(channels), p2 = new Float64Array(channels);
  const n1 = new Float64Array(channels), n2 = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let a1 = p1[c]!, a2 = p2[c]!, b1 = n1[c]!, b2 = n2[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = values[base + i]!;
        if (v > 0) {
          if (v > a1) { a2 = a1; a1 = v; } else if (v > a2) a2 = v;
        } else if (v < 0) {
          const m = -v;
          if (m > b1) { b2 = b1; b1 = m; } else if (m > b2) b2 = m;
        }
      }
      p1[c] = a1; p2[c] = a2; n1[c] = b1; n2[c] = b2;
    }
  }
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++) out[c] = Math.max(p1[c]! + p2[c]!, n1[c]! + n2[c]!);
  return out;
}

/** Consecutive values of each channel slice (row-major), paired (0,1), (2,3), ...; one pass in memory order. */
function naturalPairMax(values: ArrayLike<number>, dims: readonly number[], axis: number | null): Float64Array {
  const { outer, channels, inner } = split(dims, axis);
  const out = new Float64Array(channels);
  // Memory order visits each channel's slice in its own row-major order: keep the unpaired value.
  const pending = new Float64Array(channels);
  const odd = new Uint8Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let worst = out[c]!;
      for (let i = 0; i < inner; i++) {
        const v = values[base + i]!;
        // A value left alone by an odd reduction counts by itself.
        if (Math.abs(v) > worst) worst = Math.abs(v);
        if (odd[c]) {
          const a = pending[c]!;
          if ((a > 0 && v > 0) || (a < 0 && v < 0)) worst = Math.max(worst, Math.abs(a + v));
          odd[c] = 0;
        } else {
          pending[c] = v;
          odd[c] = 1;
        }
      }
      out[c] = worst;
    }
  }
  return out;
}

/** Conv weights [M, C, kh, kw]: each output channel reduced in (kh, kw, c) order. */
function convPairMax(values: ArrayLike<number>, dims: readonly number[]): Float64Array {
  const [m, c, ...kernel] = dims as [number, number, ...number[]];
  const k = kernel.reduce((a, b) => a * b, 1);
  const out = new Float64Array(m);
  const at = (oc: number, r: number) => values[(oc * c + (r % c)) * k + Math.floor(r / c)]!;
  for (let oc = 0; oc < m; oc++) {
    let worst = 0;
    const n = c * k;
    for (let r = 0; r + 1 < n; r += 2) {
      const a = at(oc, r), b = at(oc, r + 1);
      if ((a > 0 && b > 0) || (a < 0 && b < 0)) worst = Math.max(worst, Math.abs(a + b));
    }
    for (let r = 0; r < n; r++) worst = Math.max(worst, Math.abs(at(oc, r)));
    out[oc] = worst;
  }
  return out;
}

/** Output channels of an int8 weight (zero point 0) that can saturate a U8S8 kernel without VNNI. */
export function channelsOverBudget(values: Int8Array, dims: readonly number[], axis: number | null, order: PairOrder = 'any'): number {
  let over = 0;
  for (const m of channelPairMax(values, dims, axis, order)) if (m > PAIR_BUDGET) over++;
  return over;
}
