/**
 * SmoothQuant (Xiao et al. 2023): transformer activations have a few channels with outliers far
 * above the rest, so one per-tensor int8 scale leaves the other channels a handful of levels. For
 * Y = X W, dividing channel c of X by s_c and multiplying row c of W by s_c leaves Y unchanged and
 * moves the difficulty into the weights, which are quantized per output channel and easy:
 * s_c = max|X_c|^alpha / max|W_c|^(1 - alpha) balances the two at alpha = 0.5.
 *
 * The division must cost nothing at run time, so it is folded into what produces X:
 * - a LayerNormalization (Y = gamma * norm(x) + beta, so gamma and beta are divided by s), which
 *   feeds the QKV and first MLP projections of pre-norm transformers;
 * - a Mul by a constant scalar or [C] vector (the final "* 0.5" of an exported erf GELU, which
 *   feeds the second MLP projection, whose input has the strongest outlier channels), whose
 *   constant becomes a [C] vector divided by s.
 * Every reader of the folded tensor must be a MatMul with a constant [C, N] weight, since all of
 * them see the divided tensor.
 * The channel maxima of X come from the calibration data (a channel-minmax request).
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { StatRequest } from '../../../calibrate/types.js';
import type { Statistics } from '../../../calibrate/stats/statistics.js';
import { constantValues, writeConstant } from './constants.js';
import type { SmoothedInput } from './decisions.js';
import { searchAlpha, smoothScales } from './smoothquant-search.js';

export interface SmoothTarget {
  /** The node the division is folded into: a LayerNormalization, or a Mul by a constant. */
  norm: Node;
  /** The LayerNorm's output, read by every consumer. */
  tensor: string;
  consumers: Node[];
  channels: number;
}

/** Whether every reader of `y` is a MatMul with a constant [c, N] weight reading it as X. */
function onlyWeightedMatMuls(y: Value, c: number): Node[] | undefined {
  if (y.isGraphOutput) return undefined;
  const readers = y.consumers();
  const ok = readers.length > 0 && y.uses.length === readers.length && readers.every((r) => {
    const w = r.input(1);
    return r.opType === 'MatMul' && r.domain === '' && r.input(0) === y && !!w?.isInitializer && w.constant?.rank === 2 && w.constant.dims[0] === c && !!constantValues(r, 1);
  });
  return ok ? readers : undefined;
}

/** LayerNormalization over the last axis only, with constant gamma (and beta): gamma then holds one value per channel. */
function layerNormChannels(norm: Node): number | undefined {
  const gamma = norm.input(1)?.constant;
  if (!gamma || gamma.rank !== 1 || !constantValues(norm, 1)) return undefined;
  const beta = norm.input(2);
  if (beta && (!beta.constant || beta.constant.rank !== 1 || !constantValues(norm, 2))) return undefined;
  const axis = norm.getInt('axis', -1);
  const rank = norm.output(0).shape?.length;
  if (axis !== -1 && (rank === undefined || axis !== rank - 1)) return undefined;
  // The mean and inverse-std outputs would not be divided.
  if (norm.outputs.slice(1).some((v) => v && v.uses.length)) return undefined;
  return gamma.size;
}

/** The constant input of a Mul: a scalar or a vector along the last axis. */
export function mulConstant(mul: Node): { index: number; values: Float32Array } | undefined {
  for (const index of [1, 0]) {
    const v = constantValues(mul, index);
    const t = mul.input(index)?.constant;
    const other = mul.input(1 - index);
    if (!v || !t || !other || other.constant) continue;
    if (t.dims.slice(0, -1).every((d) => d === 1)) return { index, values: v };
  }
  return undefined;
}

/** LayerNormalization or Mul-by-constant -> MatMul(s) with constant weights. */
export function smoothTargets(model: Model): SmoothTarget[] {
  const out: SmoothTarget[] = [];
  for (const node of model.graph.nodes) {
    if (node.domain !== '') continue;
    let c: number | undefined;
    if (node.opType === 'LayerNormalization') c = layerNormChannels(node);
    else if (node.opType === 'Mul' && mulConstant(node)) {
      const k = mulConstant(node)!.values.length;
      // The channel count comes from the readers' weights; a [C] constant must agree with it.
      const w = node.output(0).consumers()[0]?.input(1)?.constant;
      c = w?.rank === 2 ? w.dims[0] : undefined;
      if (c !== undefined && k !== 1 && k !== c) c = undefined;
    }
    if (c === undefined) continue;
    const y = node.output(0);
    const consumers = onlyWeightedMatMuls(y, c);
    if (consumers) out.push({ norm: node, tensor: y.name, consumers, channels: c });
  }
  return out;
}

/** Per-channel extremes of each smoothed activation (last axis), and X^T X for the per-layer search. */
export function smoothRequests(targets: readonly SmoothTarget[], alpha: number | 'search'): StatRequest[] {
  return targets.flatMap((t): StatRequest[] => [
    { tensor: t.tensor, kind: 'channel-minmax', axis: -1 },
    ...(alpha === 'search' ? [{ tensor: t.tensor, kind: 'xtx' as const }] : []),
  ]);
}

/**
 * The scales of every target whose statistics were collected: one alpha for all, or per layer
 * the alpha with the least predicted error (smoothquant-search.ts), a layer that gains nothing
 * being left out.
 */
export function computeSmoothing(targets: readonly SmoothTarget[], stats: Statistics | undefined, alpha: number | 'search', perChannel: boolean): SmoothedInput[] {
  const out: SmoothedInput[] = [];
  for (const t of targets) {
    const s = stats?.get({ tensor: t.tensor, kind: 'channel-minmax', axis: -1 });
    if (!s || s.max.length !== t.channels) continue;
    const weights = t.consumers.map((r) => constantValues(r, 1)!);
    const wmax = new Float64Array(t.channels);
    for (const w of weights) {
      const n = w.length / t.channels;
      for (let c = 0; c < t.channels; c++) {
        let m = wmax[c]!;
        for (let i = c * n; i < (c + 1) * n; i++) m = Math.max(m, Math.abs(w[i]!));
        wmax[c] = m;
      }
    }
    const amax = Float64Array.from(s.max, (x, c) => Math.max(Math.abs(s.min[c]!), Math.abs(x)));
    let chosen: { alpha: number; scales: Float64Array } | undefined;
    if (alpha === 'search') {
      const g = stats?.get({ tensor: t.tensor, kind: 'xtx' });
      if (!g || g.size !== t.channels) continue;
      chosen = searchAlpha({ gram: g.gram, rows: g.rows, min: s.min, max: s.max, weights, perChannel }, amax, wmax);
    } else {
      chosen = { alpha, scales: smoothScales(amax, wmax, alpha) };
    }
    if (chosen) out.push({ tensor: t.tensor, consumers: t.consumers.map((n) => n.name), into: t.norm.name, alpha: chosen.alpha, scales: Array.from(chosen.scales) });
  }
  return out;
}

/** Carries out the decided smoothing on `model` (in place): the LayerNorm's gamma and beta (or the Mul's constant) divided, weight rows multiplied. */
export function applySmoothing(model: Model, decisions: readonly SmoothedInput[]): void {
  const byName = new Map(model.graph.nodes.map((n) => [n.name, n]));
  const node = (name: string) => {
    const n = byName.get(name);
    if (!n) throw new Error(`SmoothQuant names ${name}, which the model does not have`);
    return n;
  };
  for (const d of decisions) {
    const norm = node(d.into);
    const c = d.scales.length;
    if (norm.opType === 'Mul') {
      const k = mulConstant(norm);
      if (!k) throw new Error(`SmoothQuant folds into ${d.into}, which no longer multiplies by a constant`);
      const x = new Float32Array(c);
      for (let i = 0; i < c; i++) x[i] = Math.fround(k.values[k.values.length === 1 ? 0 : i]! / d.scales[i]!);
      writeConstant(model, norm, k.index, [c], x, `${d.into}_smoothed`);
    }
    for (const index of norm.opType === 'LayerNormalization' ? [1, 2] : []) {
      const v = constantValues(norm, index);
      if (!v) continue;
      const x = new Float32Array(c);
      for (let i = 0; i < c; i++) x[i] = Math.fround(v[i]! / d.scales[i]!);
      writeConstant(model, norm, index, [c], x, `${d.into}_${index === 1 ? 'scale' : 'bias'}_smoothed`);
    }
    for (const name of d.consumers) {
      const mm = node(name);
      const t = mm.input(1)!.constant!;
      const w = t.toFloat32().slice();
      const n = w.length / c;
      for (let i = 0; i < c; i++) {
        const k = d.scales[i]!;
        for (let j = i * n; j < (i + 1) * n; j++) w[j] = Math.fround(w[j]! * k);
      }
      // A weight shared with another reader gets its own copy (writeConstant).
      writeConstant(model, mm, 1, [...t.dims], w, `${name}_W_smoothed`);
    }
  }
}
