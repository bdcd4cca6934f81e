/**
 * Analytic bias correction (Nagel et al. 2019, section 4.2, data-free): the input means E[x] that
 * bias correction needs, computed from the BatchNormalization before each layer instead of
 * measured. A BatchNorm's output channel c is taken as N(beta_c, gamma_c^2); pre-processing folds
 * the BatchNorm into the convolution before it, whose bias then is beta_c (after equalization and
 * high-bias absorption: the bias as it is now) and whose output keeps the BatchNorm's name, so
 * gamma is read from the model as given. Equalization divides channel c of that convolution by
 * s_c, which scales the standard deviation too (s_c is read back as the ratio of the weight's row
 * norms before and after). Through ReLU or Clip(lo, hi) the mean is that of the clipped normal;
 * GlobalAveragePool, Reshape and Flatten keep channel means. Inputs without such a BatchNorm (the
 * network input, residual sums) get no correction.
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { CorrectableLayer } from './bias-correction.js';
import { constantValues } from './constants.js';

/** Per BatchNormalization output name, |gamma| per channel (read before pre-processing folds them). */
export function batchNormDeviations(original: Model): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const n of original.graph.nodes) {
    if (n.opType !== 'BatchNormalization' || n.domain !== '') continue;
    const gamma = constantValues(n, 1);
    if (!gamma) continue;
    out.set(n.output(0).name, Float64Array.from(gamma, Math.abs));
  }
  return out;
}

/** erf, Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): enough for a bias shift. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const Phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
const phi = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** E[clip(Y, lo, hi)] for Y ~ N(m, s^2) (lo may be -Infinity, hi Infinity). */
export function clippedNormalMean(m: number, s: number, lo: number, hi: number): number {
  if (!(s > 0)) return Math.min(hi, Math.max(lo, m));
  const a = (lo - m) / s;
  const b = (hi - m) / s;
  const pa = Number.isFinite(a) ? Phi(a) : a < 0 ? 0 : 1;
  const pb = Number.isFinite(b) ? Phi(b) : b < 0 ? 0 : 1;
  const da = Number.isFinite(a) ? phi(a) : 0;
  const db = Number.isFinite(b) ? phi(b) : 0;
  return (Number.isFinite(lo) ? lo * pa : 0) + (Number.isFinite(hi) ? hi * (1 - pb) : 0) + m * (pb - pa) + s * (da - db);
}

/** Clip bounds of a Relu/Clip node (opset < 11 attributes or constant inputs). */
function clipBounds(n: Node): [number, number] | undefined {
  if (n.opType === 'Relu') return [0, Infinity];
  if (n.opType !== 'Clip') return undefined;
  const bound = (i: number, attr: string, def: number): number | undefined => {
    if (n.input(i)) return constantValues(n, i)?.[0];
    return n.getFloat(attr, def);
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

const PASS_MEAN = new Set(['GlobalAveragePool', 'Reshape', 'Flatten']);

function rowNorms(w: ArrayLike<number>, rows: number): Float64Array {
  const per = w.length / rows;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = r * per; i < (r + 1) * per; i++) s += w[i]! * w[i]!;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/**
 * Per input tensor of `layers`, the analytic channel means, where a folded BatchNorm is found
 * before it. `layers` are those of the model being quantized (after equalization), `folded` is
 * that model before equalization (for s_c), `deviations` from batchNormDeviations on the model as given.
 */
export function analyticMeans(folded: Model, layers: readonly CorrectableLayer[], deviations: ReadonlyMap<string, Float64Array>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of layers) {
    if (out.has(l.input)) continue;
    let v: Value | undefined = l.node.input(0) ?? undefined;
    let bounds: [number, number] = [-Infinity, Infinity];
    // Back through mean-keeping ops, then at most one ReLU/Clip, to the folded convolution.
    while (v?.producer && PASS_MEAN.has(v.producer.opType)) v = v.producer.input(0) ?? undefined;
    const act = v?.producer ? clipBounds(v.producer) : undefined;
    if (act) {
      bounds = act;
      v = v!.producer!.input(0) ?? undefined;
    }
    const conv = v?.producer;
    const gamma = v ? deviations.get(v.name) : undefined;
    if (!conv || conv.opType !== 'Conv' || !gamma) continue;
    const bias = constantValues(conv, 2);
    const w = constantValues(conv, 1);
    const original = folded.graph.nodes.find((n) => n.name === conv.name);
    const w0 = original ? constantValues(original, 1) : undefined;
    if (!bias || !w || !w0 || bias.length !== gamma.length) continue;
    const now = rowNorms(w, gamma.length);
    const before = rowNorms(w0, gamma.length);
    const means: number[] = [];
    for (let c = 0; c < gamma.length; c++) {
      const s = before[c]! > 0 ? gamma[c]! * (now[c]! / before[c]!) : gamma[c]!;
      means.push(clippedNormalMean(bias[c]!, s, bounds[0], bounds[1]));
    }
    out.set(l.input, means);
  }
  return out;
}
