/** Per-channel statistics along one axis: min/max (per-channel activation ranges), sums of squares (Wanda's input norms) and means (bias correction). */
import type { StatRequest } from '../types.js';
import type { ChannelAbsMeanStat, ChannelL2Stat, ChannelMeanStat, ChannelMinMaxStat } from './results.js';
import { normalizeAxis, type BatchValues, type Reducer } from './reducer.js';

/**
 * A batch's layout around the requested channel axis: outer x channels x inner. `known` is the
 * channel count of the first batch (0 before it); a batch with another count is an error.
 */
function channelLayout(request: { tensor: string; axis: number }, dims: readonly number[], known: number): { axis: number; outer: number; c: number; inner: number } {
  const axis = normalizeAxis(request.axis, dims.length, request.tensor);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i]!;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  const c = dims[axis]!;
  if (known && known !== c) throw new RangeError(`tensor '${request.tensor}' changed its channel count between batches (${known} then ${c}); per-channel statistics need a fixed size`);
  return { axis, outer, c, inner };
}

export class ChannelMinMaxReducer implements Reducer {
  readonly needs = 'full' as const;
  private axis = -1;
  private min = new Float32Array(0);
  private max = new Float32Array(0);

  constructor(readonly request: Extract<StatRequest, { kind: 'channel-minmax' }>) {}

  update(b: BatchValues): void {
    const x = b.values!;
    const { axis, outer, c, inner } = channelLayout(this.request, b.dims, this.min.length);
    if (this.axis < 0) {
      this.axis = axis;
      this.min = new Float32Array(c).fill(Infinity);
      this.max = new Float32Array(c).fill(-Infinity);
    }
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

/** Per-channel sums of the values (or of their squares or magnitudes) and how many values each channel saw. */
abstract class ChannelSumReducer {
  readonly needs = 'full' as const;
  protected axis = -1;
  protected sums = new Float64Array(0);
  protected count = 0;

  constructor(private readonly summand: 'value' | 'square' | 'abs', private readonly target: { tensor: string; axis: number }) {}

  update(b: BatchValues): void {
    const x = b.values!;
    const { axis, outer, c, inner } = channelLayout(this.target, b.dims, this.sums.length);
    if (this.axis < 0) {
      this.axis = axis;
      this.sums = new Float64Array(c);
    }
    const sums = this.sums;
    for (let o = 0; o < outer; o++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        const start = (o * c + ch) * inner;
        // Two loops rather than a branch per element: this runs over every activation value.
        if (this.summand === 'square') for (let i = start; i < start + inner; i++) s += x[i]! * x[i]!;
        else if (this.summand === 'abs') for (let i = start; i < start + inner; i++) s += Math.abs(x[i]!);
        else for (let i = start; i < start + inner; i++) s += x[i]!;
        sums[ch]! += s;
      }
    }
    this.count += outer * inner;
  }
}

export class ChannelL2Reducer extends ChannelSumReducer implements Reducer {
  constructor(readonly request: Extract<StatRequest, { kind: 'channel-l2' }>) {
    super('square', request);
  }

  result(): ChannelL2Stat {
    return { kind: 'channel-l2', tensor: this.request.tensor, axis: this.axis, sumSquares: this.sums.slice(), norms: this.sums.map(Math.sqrt), count: this.count };
  }
}

export class ChannelMeanReducer extends ChannelSumReducer implements Reducer {
  constructor(readonly request: Extract<StatRequest, { kind: 'channel-mean' }>) {
    super('value', request);
  }

  result(): ChannelMeanStat {
    const n = this.count;
    return { kind: 'channel-mean', tensor: this.request.tensor, axis: this.axis, sums: this.sums.slice(), means: this.sums.map((s) => (n ? s / n : 0)), count: n };
  }
}

export class ChannelAbsMeanReducer extends ChannelSumReducer implements Reducer {
  constructor(readonly request: Extract<StatRequest, { kind: 'channel-abs-mean' }>) {
    super('abs', request);
  }

  result(): ChannelAbsMeanStat {
    const n = this.count;
    return { kind: 'channel-abs-mean', tensor: this.request.tensor, axis: this.axis, means: this.sums.map((s) => (n ? s / n : 0)), count: n };
  }
}
