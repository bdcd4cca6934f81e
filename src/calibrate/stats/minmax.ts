/**
 * Global and per-batch min/max, and where the range widened (convergence diagnostics). Extremes
 * normally come from ReduceMin/ReduceMax inside the runtime (see probe.ts); for graph inputs, read
 * from the feeds, they are computed here in one pass that also gives the mean and spread.
 */
import type { StatRequest } from '../types.js';
import type { MinMaxStat, Widening } from './results.js';
import type { BatchValues, Reducer } from './reducer.js';

const MAX_WIDENINGS = 512;

/** Per-row min/max (and sums) of values in JS. */
function rowExtremes(x: Float32Array, rows: number): { min: Float32Array; max: Float32Array; sum: number; sumSq: number; count: number; nonFinite: number } {
  const per = x.length / rows;
  const min = new Float32Array(rows);
  const max = new Float32Array(rows);
  let sum = 0, sumSq = 0, count = 0, nonFinite = 0;
  for (let r = 0; r < rows; r++) {
    let mn = Infinity, mx = -Infinity, s = 0, s2 = 0, n = per;
    const end = (r + 1) * per;
    for (let i = r * per; i < end; i++) {
      const v = x[i]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      s += v;
      s2 += v * v;
    }
    // NaN and +-Inf poison the sum: only then take the slow path that skips them.
    if (s - s !== 0) {
      mn = Infinity; mx = -Infinity; s = 0; s2 = 0; n = 0;
      for (let i = r * per; i < end; i++) {
        const v = x[i]!;
        if (v - v !== 0) { nonFinite++; continue; }
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        s += v; s2 += v * v; n++;
      }
    }
    min[r] = n ? mn : NaN;
    max[r] = n ? mx : NaN;
    sum += s; sumSq += s2; count += n;
  }
  return { min, max, sum, sumSq, count, nonFinite };
}

export class MinMaxReducer implements Reducer {
  readonly needs = 'extremes' as const;
  private min = Infinity;
  private max = -Infinity;
  private sumRowMin = 0;
  private sumRowMax = 0;
  private rows = 0;
  private sum = 0;
  private sumSq = 0;
  private count = 0;
  private nonFinite = 0;
  private samples = 0;
  private widenings: Widening[] = [];

  constructor(readonly request: Extract<StatRequest, { kind: 'minmax' }>) {}

  update(b: BatchValues): void {
    let rowMin = b.rowMin;
    let rowMax = b.rowMax;
    if (!rowMin || !rowMax) {
      if (!b.values) return;
      // One row per batch, like the extremes the runtime computes for intermediate tensors.
      const r = rowExtremes(b.values, 1);
      rowMin = r.min;
      rowMax = r.max;
      this.sum += r.sum;
      this.sumSq += r.sumSq;
      this.count += r.count;
      this.nonFinite += r.nonFinite;
    }
    if (rowMin.length !== b.samples && rowMin.length > 1) {
      // Axis 0 is not the sample axis here: one row for the batch.
      let mn = Infinity, mx = -Infinity;
      for (let i = 0; i < rowMin.length; i++) {
        if (!Number.isFinite(rowMin[i]!) || !Number.isFinite(rowMax[i]!)) { this.nonFinite++; continue; }
        mn = Math.min(mn, rowMin[i]!);
        mx = Math.max(mx, rowMax[i]!);
      }
      if (mn > mx) { mn = NaN; mx = NaN; this.nonFinite--; } // counted again below
      rowMin = Float32Array.of(mn);
      rowMax = Float32Array.of(mx);
    }
    let bmin = this.min;
    let bmax = this.max;
    for (let i = 0; i < rowMin.length; i++) {
      const mn = rowMin[i]!;
      const mx = rowMax[i]!;
      // Extremes from the runtime are NaN/Inf when a row held one; that row is left out.
      if (!Number.isFinite(mn) || !Number.isFinite(mx)) {
        if (b.rowMin) this.nonFinite++;
        continue;
      }
      if (mn < bmin) bmin = mn;
      if (mx > bmax) bmax = mx;
      this.sumRowMin += mn;
      this.sumRowMax += mx;
      this.rows++;
    }
    this.samples = b.seen + b.samples;
    if (bmin < this.min || bmax > this.max) {
      this.min = bmin;
      this.max = bmax;
      this.widenings.push({ samples: this.samples, min: bmin, max: bmax });
      // Keep the newest entries exact and thin the older half: the convergence check reads the tail.
      if (this.widenings.length > MAX_WIDENINGS) {
        const half = this.widenings.length >> 1;
        this.widenings = [...this.widenings.slice(0, half).filter((_, i) => i % 2 === 1), ...this.widenings.slice(half)];
      }
    }
  }

  result(): MinMaxStat {
    const stat: MinMaxStat = {
      kind: 'minmax',
      tensor: this.request.tensor,
      min: this.min,
      max: this.max,
      meanMin: this.rows ? this.sumRowMin / this.rows : this.min,
      meanMax: this.rows ? this.sumRowMax / this.rows : this.max,
      nonFinite: this.nonFinite,
      samples: this.samples,
      widenings: [...this.widenings],
    };
    if (this.count) {
      stat.mean = this.sum / this.count;
      stat.std = Math.sqrt(Math.max(0, this.sumSq / this.count - stat.mean * stat.mean));
      stat.count = this.count;
    }
    return stat;
  }
}
