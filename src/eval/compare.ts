/**
 * Reference-vs-candidate comparison of one output tensor, accumulated batch by batch so memory does
 * not grow with the data. These numbers need no labels and are always reported.
 *
 * Definitions (r = reference, c = candidate, sums over every element seen):
 *   mse          = Σ(c−r)² / n
 *   maxAbsError  = max |c−r|
 *   sqnrDb       = 10·log10(Σr² / Σ(c−r)²)   (Infinity when the outputs are identical)
 *   cosine       = mean over samples of r·c / (|r||c|), each sample flattened;
 *                  1 when both are all zero, 0 when only one is
 *   agreement    = fraction of rows along the last axis whose argmax is the same (first maximum
 *                  wins); for integer outputs, the fraction of equal elements; null when the last
 *                  axis has fewer than 2 entries (an argmax of one value agrees trivially)
 *
 * Where the reference is NaN or infinite (a Log of zero, a masked score) there is nothing to
 * measure against: such elements are left out of every sum and counted. Where only the candidate
 * is, the error is infinite (SQNR -Infinity, MSE and max abs error Infinity), and counted; the
 * cosine is then over the elements both give as numbers (samples with none are left out). With no
 * element left to compare, SQNR, MSE, max abs error and cosine are NaN.
 */
import type { TensorData } from '../runtime/types.js';
import { DataError } from '../errors.js';
import { asFloat32 } from '../runtime/tensor-data.js';

export interface OutputComparison {
  name: string;
  /** Elements compared (over all samples). */
  elements: number;
  agreement: number | null;
  cosine: number;
  /** Lowest per-sample cosine similarity (the worst sample). */
  cosineMin: number;
  sqnrDb: number;
  mse: number;
  maxAbsError: number;
  /** Equal wherever compared, and nothing left out: every element of the reference is a number. */
  identical: boolean;
  /** Elements left out because the reference is NaN or infinite there. */
  referenceNonFinite: number;
  /** Elements where the reference is finite and the candidate is not (infinite error). */
  candidateNonFinite: number;
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

/** Values of a numeric tensor as float64 (int64 through Number, float16 decoded). */
export function toFloat64(t: TensorData): Float64Array {
  const d = t.data;
  if (Array.isArray(d)) throw new DataError('string tensors cannot be compared numerically');
  if (t.type === 'float16') return Float64Array.from(asFloat32(t));
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d as ArrayLike<bigint>, (v) => Number(v));
  return d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>);
}

/** Index of the first maximum of x[off .. off+len) (NaN never wins). */
export function argmax(x: ArrayLike<number>, off: number, len: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let j = 0; j < len; j++) {
    const v = x[off + j]!;
    if (v > bestV) { bestV = v; best = j; }
  }
  return best;
}

export class OutputComparator {
  private n = 0;
  private sumRef2 = 0;
  private sumErr2 = 0;
  private maxAbs = 0;
  private cosSum = 0;
  private cosMin = Infinity;
  /** Samples with at least one element both outputs give as a number: the cosine's. */
  private cosSamples = 0;
  private agreeHits = 0;
  private agreeRows = 0;
  private agreementApplicable = true;
  private referenceNonFinite = 0;
  private candidateNonFinite = 0;

  constructor(readonly name: string) {}

  /**
   * Adds one batch of both models' values for this output. `samples` is how many samples the
   * batch holds (default: the first dimension; a model fed one unbatched sample gives 1).
   */
  add(ref: TensorData, cand: TensorData, samples = ref.dims.length ? ref.dims[0]! : 1): void {
    if (ref.dims.join(',') !== cand.dims.join(',')) {
      throw new DataError(`output '${this.name}': reference shape [${ref.dims.join(',')}] differs from candidate shape [${cand.dims.join(',')}]; the models must produce the same outputs`);
    }
    const r = toFloat64(ref);
    const c = toFloat64(cand);
    const total = r.length;
    // An output that is not batched per sample (a state, a summary) is one "sample" per batch.
    if (!(samples > 0) || total % samples !== 0) samples = 1;
    const per = total / samples;
    for (let s = 0; s < samples; s++) {
      let dot = 0, rr = 0, cc = 0, compared = 0;
      const off = s * per;
      for (let i = off; i < off + per; i++) {
        const a = r[i]!, b = c[i]!;
        if (!Number.isFinite(a)) { this.referenceNonFinite++; continue; }
        if (!Number.isFinite(b)) { this.candidateNonFinite++; continue; }
        const e = b - a;
        compared++;
        dot += a * b; rr += a * a; cc += b * b;
        this.sumErr2 += e * e;
        const ae = Math.abs(e);
        if (ae > this.maxAbs) this.maxAbs = ae;
      }
      this.sumRef2 += rr;
      if (!compared) continue;
      const cos = rr === 0 && cc === 0 ? 1 : rr === 0 || cc === 0 ? 0 : dot / Math.sqrt(rr * cc);
      this.cosSum += cos;
      this.cosSamples++;
      if (cos < this.cosMin) this.cosMin = cos;
    }
    this.n += total;
    this.addAgreement(ref, r, c);
  }

  private addAgreement(ref: TensorData, r: Float64Array, c: Float64Array): void {
    if (!FLOAT_TYPES.has(ref.type)) {
      for (let i = 0; i < r.length; i++) if (r[i] === c[i]) this.agreeHits++;
      this.agreeRows += r.length;
      return;
    }
    const last = ref.dims.length ? ref.dims[ref.dims.length - 1]! : 1;
    if (last < 2) { this.agreementApplicable = false; return; }
    for (let off = 0; off < r.length; off += last) {
      if (argmax(r, off, last) === argmax(c, off, last)) this.agreeHits++;
      this.agreeRows++;
    }
  }

  result(): OutputComparison {
    const compared = this.n - this.referenceNonFinite - this.candidateNonFinite;
    const sqnr = this.candidateNonFinite ? -Infinity : compared ? sqnrDb(this.sumRef2, this.sumErr2) : NaN;
    return {
      name: this.name,
      elements: this.n,
      agreement: this.agreementApplicable && this.agreeRows > 0 ? this.agreeHits / this.agreeRows : null,
      cosine: this.cosSamples ? this.cosSum / this.cosSamples : NaN,
      cosineMin: this.cosSamples ? this.cosMin : NaN,
      // Nothing compared (every element NaN or infinite): no number to give, NaN.
      sqnrDb: sqnr,
      mse: this.candidateNonFinite ? Infinity : compared ? this.sumErr2 / compared : NaN,
      maxAbsError: this.candidateNonFinite ? Infinity : compared ? this.maxAbs : NaN,
      identical: sqnr === Infinity && this.referenceNonFinite === 0,
      referenceNonFinite: this.referenceNonFinite,
      candidateNonFinite: this.candidateNonFinite,
    };
  }
}

/** 10·log10(signal/noise); Infinity when there is no noise, -Infinity for noise on a zero signal. */
export function sqnrDb(signalPower: number, noisePower: number): number {
  if (noisePower === 0) return Infinity;
  return 10 * Math.log10(signalPower / noisePower);
}
