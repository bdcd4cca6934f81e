/**
 * Small streaming accumulators for per-layer analysis: the noise a quantizer adds to its own input
 * (and how much of that input it clips), and the error of a float tensor against its twin.
 */
import { sqnrDb } from './compare.js';
import { dequantize, type QuantParams } from './qdq-structure.js';

/** Σsignal² and Σ(noise)² between a float tensor and a noisy copy, plus the float's range. */
export class NoiseAccumulator {
  signal = 0;
  noise = 0;
  min = Infinity;
  max = -Infinity;
  count = 0;

  add(clean: ArrayLike<number>, noisy: ArrayLike<number>): void {
    for (let i = 0; i < clean.length; i++) {
      const a = clean[i]!;
      const e = noisy[i]! - a;
      this.signal += a * a;
      this.noise += e * e;
      if (a < this.min) this.min = a;
      if (a > this.max) this.max = a;
    }
    this.count += clean.length;
  }

  /** Records only the range of `values` (no noise). */
  observe(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const a = values[i]!;
      if (a < this.min) this.min = a;
      if (a > this.max) this.max = a;
    }
    this.count += values.length;
  }

  get sqnrDb(): number {
    return sqnrDb(this.signal, this.noise);
  }
}

/** Fraction of values further than half a step outside what the quantizer can represent. */
export class ClipCounter {
  private clipped = 0;
  private total = 0;
  constructor(private readonly lo: number, private readonly hi: number) {}

  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (x < this.lo || x > this.hi) this.clipped++;
    }
    this.total += values.length;
  }

  get fraction(): number {
    return this.total ? this.clipped / this.total : 0;
  }
}

export interface WeightError {
  sqnrDb: number;
  min: number;
  max: number;
  /** False when no float original was available and the noise is estimated as step²/12. */
  exact: boolean;
}

/**
 * Weight quantization error: exact against the float original when there is one; otherwise the
 * uniform-rounding estimate (noise power step²/12 per element, no clipping, as for max-abs scales).
 */
export function weightError(integer: { toFloat32(): Float32Array; dims: number[] }, params: QuantParams, float?: Float32Array): WeightError {
  const deq = dequantize(integer.toFloat32(), integer.dims, params);
  if (float) {
    const acc = new NoiseAccumulator();
    acc.add(float, deq);
    return { sqnrDb: acc.sqnrDb, min: acc.min, max: acc.max, exact: true };
  }
  let signal = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < deq.length; i++) { const x = deq[i]!; signal += x * x; if (x < min) min = x; if (x > max) max = x; }
  let noise = 0;
  const channels = params.scale.length;
  const perChannel = deq.length / channels;
  for (let c = 0; c < channels; c++) noise += (perChannel * params.scale[c]! * params.scale[c]!) / 12;
  return { sqnrDb: sqnrDb(signal, noise), min, max, exact: false };
}
