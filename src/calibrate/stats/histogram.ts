/**
 * A histogram merged online with a fixed number of bins. The grid is anchored at zero (bin k covers
 * [k*w, (k+1)*w)), so when the range widens the bins merge exactly in pairs (w doubles) instead of
 * being interpolated: no re-binning error, no second pass over the data, and memory stays at
 * `bins` float64 counts however many samples arrive.
 */
import type { StatRequest } from '../types.js';
import { DEFAULT_HISTOGRAM_BINS, type HistogramStat } from './results.js';
import type { BatchValues, Reducer } from './reducer.js';

export class HistogramReducer implements Reducer {
  readonly needs = 'sample' as const;
  private readonly n: number;
  private counts: Float64Array;
  private scratch: Float64Array;
  /** Bin width; 0 until a non-zero value arrives. */
  private w = 0;
  /** counts[j] is bin (off + j). */
  private off = 0;
  /** Values counted while every value so far was exactly 0. */
  private pendingZeros = 0;
  /** Exact zeros among all values (they quantize without error; MSE needs to know). */
  private exactZeros = 0;
  private min = Infinity;
  private max = -Infinity;
  private total = 0;
  private nonFinite = 0;

  constructor(readonly request: Extract<StatRequest, { kind: 'histogram' }>) {
    this.n = request.bins ?? DEFAULT_HISTOGRAM_BINS;
    if (!Number.isInteger(this.n) || this.n < 16) throw new RangeError(`histogram of '${request.tensor}': bins must be an integer >= 16 (got ${request.bins})`);
    this.counts = new Float64Array(this.n);
    this.scratch = new Float64Array(this.n);
  }

  update(b: BatchValues): void {
    const x = b.values;
    if (!x) {
      // A batch whose values were not fetched still widens the range (and the grid) with its extremes.
      if (!b.rowMin || !b.rowMax) return;
      for (let i = 0; i < b.rowMin.length; i++) {
        if (Number.isFinite(b.rowMin[i]!) && b.rowMin[i]! < this.min) this.min = b.rowMin[i]!;
        if (Number.isFinite(b.rowMax[i]!) && b.rowMax[i]! > this.max) this.max = b.rowMax[i]!;
      }
      if (this.w > 0) this.fit(Math.min(this.min, 0), Math.max(this.max, 0));
      return;
    }
    let bmin = Infinity;
    let bmax = -Infinity;
    let finite: boolean;
    if (b.rowMin && b.rowMax) {
      // Exact extremes from the runtime: no pass over the values to find them.
      for (let i = 0; i < b.rowMin.length; i++) {
        if (b.rowMin[i]! < bmin) bmin = b.rowMin[i]!;
        if (b.rowMax[i]! > bmax) bmax = b.rowMax[i]!;
      }
      finite = Number.isFinite(bmin) && Number.isFinite(bmax);
    } else {
      let s = 0;
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        if (v < bmin) bmin = v;
        if (v > bmax) bmax = v;
        s += v;
      }
      finite = s - s === 0;
    }
    if (!finite) {
      bmin = Infinity; bmax = -Infinity;
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        if (v - v !== 0) continue;
        if (v < bmin) bmin = v;
        if (v > bmax) bmax = v;
      }
    }
    if (bmin > bmax) { this.nonFinite += x.length; return; } // nothing finite
    if (bmin < this.min) this.min = bmin;
    if (bmax > this.max) this.max = bmax;
    const lo = Math.min(this.min, 0);
    const hi = Math.max(this.max, 0);
    if (this.w === 0) {
      if (hi === lo) {
        const zeros = finite ? x.length : x.length - this.countNonFinite(x);
        this.nonFinite += x.length - zeros;
        this.pendingZeros += zeros;
        this.exactZeros += zeros;
        this.total += zeros;
        return;
      }
      // Two bins of slack: the anchored grid needs floor(lo/w) and floor(hi/w) inside.
      this.w = (hi - lo) / (this.n - 2);
      this.off = Math.floor(lo / this.w);
      this.counts[-this.off] += this.pendingZeros;
    }
    this.fit(lo, hi);
    this.count(x, finite);
  }

  private countNonFinite(x: Float32Array): number {
    let k = 0;
    for (let i = 0; i < x.length; i++) if (x[i]! - x[i]! !== 0) k++;
    return k;
  }

  /** Doubles the bin width (merging pairs) until [lo, hi] fits, then moves the window onto it. */
  private fit(lo: number, hi: number): void {
    let w = this.w;
    let kLo = Math.floor(lo / w);
    let kHi = Math.floor(hi / w);
    if (kLo >= this.off && kHi < this.off + this.n) return;
    let factor = 1;
    while (kHi - kLo + 1 > this.n) {
      factor *= 2;
      w *= 2;
      kLo = Math.floor(lo / w);
      kHi = Math.floor(hi / w);
    }
    const out = this.scratch;
    out.fill(0);
    for (let j = 0; j < this.n; j++) {
      const c = this.counts[j]!;
      if (c === 0) continue;
      const k = Math.floor((this.off + j) / factor);
      out[Math.min(this.n - 1, Math.max(0, k - kLo))]! += c;
    }
    this.scratch = this.counts;
    this.counts = out;
    this.w = w;
    this.off = kLo;
  }

  private count(x: Float32Array, finite: boolean): void {
    const inv = 1 / this.w;
    const off = this.off;
    const last = this.n - 1;
    const counts = this.counts;
    let zeros = 0;
    if (finite) {
      // Branch-free: half of a ReLU output is 0 and a branch on it would mispredict. NaN (which the
      // runtime's extremes do not reveal) truncates to index 0 and is taken back out after the loop.
      let nan = 0;
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        nan += +(v !== v);
        zeros += +(v === 0);
        // Non-negative by construction; `| 0` truncates like floor, and rounding slop is clamped.
        let j = (v * inv - off) | 0;
        j = j > last ? last : j;
        counts[j]!++;
      }
      counts[0]! -= nan;
      this.total += x.length - nan;
      this.nonFinite += nan;
    } else {
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        if (v - v !== 0) { this.nonFinite++; continue; }
        zeros += +(v === 0);
        let j = (v * inv - off) | 0;
        if (j > last) j = last;
        counts[j]!++;
        this.total++;
      }
    }
    this.exactZeros += zeros;
  }

  result(): HistogramStat {
    const base = { kind: 'histogram' as const, tensor: this.request.tensor, min: this.min, max: this.max, total: this.total, zeros: this.exactZeros, nonFinite: this.nonFinite };
    if (this.w === 0) return { ...base, binWidth: 0, offset: 0, counts: Float64Array.of(this.pendingZeros) };
    // Trim to the bins between min (or 0) and max (or 0).
    const first = Math.max(0, Math.floor(Math.min(this.min, 0) / this.w) - this.off);
    const last = Math.min(this.n - 1, Math.floor(Math.max(this.max, 0) / this.w) - this.off);
    return { ...base, binWidth: this.w, offset: this.off + first, counts: this.counts.slice(first, last + 1) };
  }
}
