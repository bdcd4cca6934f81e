/** Global and per-sample min/max, mean and spread, and where the range widened. */
import type { StatRequest } from '../types.js';
import type { MinMaxStat, Widening } from './results.js';
import type { Reducer } from './reducer.js';

const MAX_WIDENINGS = 512;

export class MinMaxReducer implements Reducer {
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

  update(x: Float32Array, dims: readonly number[], samples: number, seen: number): void {
    // Per-sample extremes when axis 0 is the sample axis (the usual case), else one row per batch.
    const rows = dims[0] === samples && samples > 1 ? samples : 1;
    const per = x.length / rows;
    let bmin = this.min;
    let bmax = this.max;
    for (let r = 0; r < rows; r++) {
      let mn = Infinity;
      let mx = -Infinity;
      let s = 0;
      let s2 = 0;
      const end = (r + 1) * per;
      for (let i = r * per; i < end; i++) {
        const v = x[i]!;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        s += v;
        s2 += v * v;
      }
      let n = per;
      // NaN and +-Inf poison the sum: only then take the slow path that skips them.
      if (s - s !== 0) {
        mn = Infinity; mx = -Infinity; s = 0; s2 = 0; n = 0;
        for (let i = r * per; i < end; i++) {
          const v = x[i]!;
          if (v - v !== 0) { this.nonFinite++; continue; }
          if (v < mn) mn = v;
          if (v > mx) mx = v;
          s += v; s2 += v * v; n++;
        }
      }
      if (n === 0) continue;
      if (mn < bmin) bmin = mn;
      if (mx > bmax) bmax = mx;
      this.sumRowMin += mn;
      this.sumRowMax += mx;
      this.rows++;
      this.sum += s;
      this.sumSq += s2;
      this.count += n;
    }
    this.samples = seen + samples;
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
    const mean = this.count ? this.sum / this.count : 0;
    const variance = this.count ? Math.max(0, this.sumSq / this.count - mean * mean) : 0;
    return {
      kind: 'minmax',
      tensor: this.request.tensor,
      min: this.min,
      max: this.max,
      meanMin: this.rows ? this.sumRowMin / this.rows : this.min,
      meanMax: this.rows ? this.sumRowMax / this.rows : this.max,
      mean,
      std: Math.sqrt(variance),
      count: this.count,
      nonFinite: this.nonFinite,
      samples: this.samples,
      widenings: [...this.widenings],
    };
  }
}
