/** Per-channel statistics along one axis: min/max (per-channel activation ranges) and sums of squares (Wanda's input norms). */
import type { StatRequest } from '../types.js';
import type { ChannelL2Stat, ChannelMinMaxStat } from './results.js';
import { normalizeAxis, type BatchValues, type Reducer } from './reducer.js';

/** Splits a shape around `axis`: outer x channels x inner. */
function split(dims: readonly number[], axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i]!;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  return [outer, dims[axis]!, inner];
}

function checkChannels(tensor: string, had: number, now: number): void {
  if (had !== now) throw new RangeError(`tensor '${tensor}' changed its channel count between batches (${had} then ${now}); per-channel statistics need a fixed size`);
}

export class ChannelMinMaxReducer implements Reducer {
  readonly needs = 'full' as const;
  private axis = -1;
  private min = new Float32Array(0);
  private max = new Float32Array(0);

  constructor(readonly request: Extract<StatRequest, { kind: 'channel-minmax' }>) {}

  update(b: BatchValues): void {
    const x = b.values!;
    const dims = b.dims;
    const axis = normalizeAxis(this.request.axis, dims.length, this.request.tensor);
    const [outer, c, inner] = split(dims, axis);
    if (this.axis < 0) {
      this.axis = axis;
      this.min = new Float32Array(c).fill(Infinity);
      this.max = new Float32Array(c).fill(-Infinity);
    }
    checkChannels(this.request.tensor, this.min.length, c);
    const mins = this.min;
    const maxs = this.max;
    for (let o = 0; o < outer; o++) {
      for (let ch = 0; ch < c; ch++) {
        let mn = mins[ch]!;
        let mx = maxs[ch]!;
        const start = (o * c + ch) * inner;
        for (let i = start; i < start + inner; i++) {
          const v = x[i]!;
          if (v < mn) mn = v; // NaN fails both comparisons and is skipped
          if (v > mx) mx = v;
        }
        mins[ch] = mn;
        maxs[ch] = mx;
      }
    }
  }

  result(): ChannelMinMaxStat {
    return { kind: 'channel-minmax', tensor: this.request.tensor, axis: this.axis, min: this.min.slice(), max: this.max.slice() };
  }
}

export class ChannelL2Reducer implements Reducer {
  readonly needs = 'full' as const;
  private axis = -1;
  private sums = new Float64Array(0);
  private count = 0;

  constructor(readonly request: Extract<StatRequest, { kind: 'channel-l2' }>) {}

  update(b: BatchValues): void {
    const x = b.values!;
    const dims = b.dims;
    const axis = normalizeAxis(this.request.axis, dims.length, this.request.tensor);
    const [outer, c, inner] = split(dims, axis);
    if (this.axis < 0) {
      this.axis = axis;
      this.sums = new Float64Array(c);
    }
    checkChannels(this.request.tensor, this.sums.length, c);
    const sums = this.sums;
    for (let o = 0; o < outer; o++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        const start = (o * c + ch) * inner;
        for (let i = start; i < start + inner; i++) s += x[i]! * x[i]!;
        sums[ch]! += s;
      }
    }
    this.count += outer * inner;
  }

  result(): ChannelL2Stat {
    return { kind: 'channel-l2', tensor: this.request.tensor, axis: this.axis, sumSquares: this.sums.slice(), norms: this.sums.map(Math.sqrt), count: this.count };
  }
}
