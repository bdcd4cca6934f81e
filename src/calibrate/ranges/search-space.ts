/**
 * The candidate clipping ranges a histogram offers, as windows [start, end) of bins over one counts
 * array, for the search methods (entropy, MSE):
 * - symmetric targets: magnitudes |x| folded into one array, ranges [-t, t];
 * - asymmetric targets on one-signed data (ReLU outputs): that side only, ranges [0, t] or [-t, 0];
 * - asymmetric targets on two-signed data: the signed histogram, both ends shrunk in proportion.
 * Bins are clamped to the observed extremes, so the widest window is exactly the min/max range and
 * a point mass at the minimum (a black background pixel) is not taken for values beyond it.
 */
import type { QuantTarget, TensorRange } from '../types.js';
import type { HistogramStat } from '../stats/results.js';
import { targetBits } from './target.js';

export interface SearchSpace {
  /** Counts; bin i covers [origin + i*w, origin + (i+1)*w) in the space's coordinates (|x| for magnitudes). */
  counts: Float64Array;
  w: number;
  origin: number;
  /** Index of the bin holding 0, and how many exact zeros it holds (they quantize without error). */
  zeroBin: number;
  zeros: number;
  /** Quantization levels spread over a window (entropy's number of quantized bins). */
  levels: number;
  /** True for magnitudes (windows start at bin 0); false for the two-sided signed histogram. */
  oneSided: boolean;
  /** Candidate windows, narrowest first. */
  windows(): Iterable<[start: number, end: number]>;
  /** A window's bounds in the space's coordinates, clamped to what was observed. */
  bounds(start: number, end: number): [lo: number, hi: number];
  /** The real clipping range a window stands for. */
  toRange(start: number, end: number): TensorRange;
  /** Centre of bin i's observed part, for error terms. */
  centre(i: number): number;
}

/** |x| histogram: bin k >= 0 covers [k w, (k+1) w); bin k < 0 covers [k w, (k+1) w) whose magnitudes fall in bin -k-1. */
export function foldMagnitudes(h: HistogramStat, side: 'both' | 'positive' | 'negative'): Float64Array {
  const len = Math.max(h.offset + h.counts.length, -h.offset);
  const out = new Float64Array(Math.max(1, len));
  for (let j = 0; j < h.counts.length; j++) {
    const k = h.offset + j;
    if (k >= 0 && side !== 'negative') out[k]! += h.counts[j]!;
    else if (k < 0 && side !== 'positive') out[-k - 1]! += h.counts[j]!;
  }
  return out;
}

function magnitudeSpace(counts: Float64Array, w: number, extent: number, zeros: number, levels: number, toRange: (t: number) => TensorRange): SearchSpace {
  return {
    counts, w, origin: 0, zeroBin: 0, zeros, levels, oneSided: true,
    *windows() { for (let i = 1; i <= counts.length; i++) yield [0, i]; },
    bounds: (_s, e) => [0, Math.min(e * w, extent)],
    toRange: (_s, e) => toRange(Math.min(e * w, extent)),
    centre: (i) => (i * w + Math.min((i + 1) * w, extent)) / 2,
  };
}

export function searchSpace(h: HistogramStat, target: QuantTarget): SearchSpace {
  const bits = targetBits(target);
  const w = h.binWidth;
  if (target.symmetric) {
    return magnitudeSpace(foldMagnitudes(h, 'both'), w, Math.max(-h.min, h.max), h.zeros, 2 ** (bits - 1), (t) => ({ min: -t, max: t }));
  }
  if (h.min >= 0) return magnitudeSpace(foldMagnitudes(h, 'positive'), w, h.max, h.zeros, 2 ** bits, (t) => ({ min: 0, max: t }));
  if (h.max <= 0) return magnitudeSpace(foldMagnitudes(h, 'negative'), w, -h.min, h.zeros, 2 ** bits, (t) => ({ min: -t, max: 0 }));
  const counts = h.counts;
  const origin = h.offset * w;
  const z = -h.offset; // index of the bin [0, w)
  const neg = z;
  const pos = counts.length - z;
  const steps = Math.max(neg, pos);
  const bounds = (s: number, e: number): [number, number] => [Math.max(origin + s * w, h.min), Math.min(origin + e * w, h.max)];
  return {
    counts, w, origin, zeroBin: z, zeros: h.zeros, levels: 2 ** bits, oneSided: false,
    *windows() {
      for (let t = 1; t <= steps; t++) yield [z - Math.round((t * neg) / steps), z + Math.round((t * pos) / steps)];
    },
    bounds,
    toRange: (s, e) => {
      const [min, max] = bounds(s, e);
      return { min: Math.min(min, 0), max: Math.max(max, 0) };
    },
    centre: (i) => (Math.max(origin + i * w, h.min) + Math.min(origin + (i + 1) * w, h.max)) / 2,
  };
}

/**
 * The window with the lowest score (Infinity = not allowed). Two-sided spaces first scan windows
 * shrunk in proportion, then move each end on its own (coordinate descent, a few sweeps), since
 * the observed extremes that set the proportion are the noisiest numbers in the histogram.
 */
export function bestWindow(space: SearchSpace, score: (start: number, end: number) => number): [number, number] | undefined {
  let best = Infinity;
  let window: [number, number] | undefined;
  // One-sided spaces are searched exhaustively (as TensorRT does); the two-sided proportional scan
  // takes every 4th window, since the coordinate sweeps below refine both ends bin by bin anyway.
  const stride = space.oneSided ? 1 : 4;
  let k = 0;
  for (const [s, e] of space.windows()) {
    if (k++ % stride) continue;
    const v = score(s, e);
    if (v < best) { best = v; window = [s, e]; }
  }
  if (!window || space.oneSided) return window;
  // Each end on its own: a coarse scan, then every bin around the best.
  const L = space.counts.length;
  const z = space.zeroBin;
  const scan = (from: number, to: number, step: number, fix: 'start' | 'end') => {
    for (let i = from; i <= to; i += step) {
      const [s, e] = fix === 'start' ? [i, window![1]] : [window![0], i];
      const v = score(s, e);
      if (v < best) { best = v; window = [s, e]; }
    }
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const before = best;
    const stepS = Math.max(1, Math.ceil((z + 1) / 64));
    scan(0, z, stepS, 'start');
    scan(Math.max(0, window[0] - stepS), Math.min(z, window[0] + stepS), 1, 'start');
    const stepE = Math.max(1, Math.ceil((L - z) / 64));
    scan(z + 1, L, stepE, 'end');
    scan(Math.max(z + 1, window[1] - stepE), Math.min(L, window[1] + stepE), 1, 'end');
    if (!(best < before)) break;
  }
  return window;
}

/** Merges adjacent bins (exactly, the grid is anchored at zero) until at most `maxBins` remain. */
export function coarsen(h: HistogramStat, maxBins: number): HistogramStat {
  let counts = h.counts;
  let offset = h.offset;
  let w = h.binWidth;
  while (counts.length > maxBins && w > 0) {
    const off2 = Math.floor(offset / 2);
    const last = Math.floor((offset + counts.length - 1) / 2);
    const out = new Float64Array(last - off2 + 1);
    for (let j = 0; j < counts.length; j++) out[Math.floor((offset + j) / 2) - off2]! += counts[j]!;
    counts = out;
    offset = off2;
    w *= 2;
  }
  return counts === h.counts ? h : { ...h, counts, offset, binWidth: w };
}
