/**
 * SmoothQuant (Xiao et al. 2023): transformer activations have a few channels with outliers far
 * above the rest, so one per-tensor int8 scale leaves the other channels a handful of levels. For
 * Y = X W, dividing channel c of X by s_c and multiplying row c of W by s_c leaves Y unchanged and
 * moves the difficulty into the weights, which are quantized per output channel and easy:
 * s_c = max|X_c|^alpha / max|W_c|^(1 - alpha) balances the two at alpha = 0.5.
 *
 * The division must cost nothing at run time, so it is folded into what produces X: here a
 * LayerNormalization (Y = gamma * norm(x) + beta, so gamma and beta are divided by s), which is what
 * feeds the QKV and first MLP projections of pre-norm transformers. Every reader of the LayerNorm's
 * output must be a MatMul with a constant [C, N] weight, since all of them see the divided tensor.
 * The channel maxima of X come from the calibration data (a channel-minmax request).
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import type { StatRequest } from '../../../calibrate/types.js';
import type { Statistics } from '../../../calibrate/stats/statistics.js';
import { constantValues, writeConstant } from './constants.js';
import type { SmoothedInput } from './decisions.js';

/** Scales are kept within these bounds: a dead channel (max 0) or a degenerate weight row stays unscaled. */
const MIN_SCALE = 1e-4;
const MAX_SCALE = 1e4;

export interface SmoothTarget {
  norm: Node;
  /** The LayerNorm's output, read by every consumer. */
  tensor: string;
  consumers: Node[];
  channels: number;
}

/** LayerNormalization -> MatMul(s) with constant weights, normalizing over the last axis only. */
export function smoothTargets(model: Model): SmoothTarget[] {
  const out: SmoothTarget[] = [];
  for (const norm of model.graph.nodes) {
    if (norm.opType !== 'LayerNormalization' || norm.domain !== '') continue;
    const gamma = norm.input(1)?.constant;
    if (!gamma || gamma.rank !== 1 || !constantValues(norm, 1)) continue;
    const beta = norm.input(2);
    if (beta && (!beta.constant || beta.constant.rank !== 1 || !constantValues(norm, 2))) continue;
    // axis must be the last one: gamma then holds one value per channel of the output.
    const axis = norm.getInt('axis', -1);
    const rank = norm.output(0).shape?.length;
    if (axis !== -1 && (rank === undefined || axis !== rank - 1)) continue;
    // Mean and inverse std outputs, if any are read, would see the same values: fine, but keep it simple.
    if (norm.outputs.slice(1).some((v) => v && v.uses.length)) continue;
    const y = norm.output(0);
    if (y.isGraphOutput) continue;
    const readers = y.consumers();
    const c = gamma.size;
    const ok = readers.length > 0 && y.uses.length === readers.length && readers.every((r) => {
      const w = r.input(1);
      return r.opType === 'MatMul' && r.domain === '' && r.input(0) === y && !!w?.isInitializer && w.constant?.rank === 2 && w.constant.dims[0] === c && !!constantValues(r, 1);
    });
    if (ok) out.push({ norm, tensor: y.name, consumers: readers, channels: c });
  }
  return out;
}

/** Per-channel extremes of each smoothed activation (last axis). */
export function smoothRequests(targets: readonly SmoothTarget[]): StatRequest[] {
  return targets.map((t) => ({ tensor: t.tensor, kind: 'channel-minmax', axis: -1 }));
}

/** The scales of every target whose statistics were collected. */
export function computeSmoothing(targets: readonly SmoothTarget[], stats: Statistics | undefined, alpha: number): SmoothedInput[] {
  const out: SmoothedInput[] = [];
  for (const t of targets) {
    const s = stats?.get({ tensor: t.tensor, kind: 'channel-minmax', axis: -1 });
    if (!s || s.max.length !== t.channels) continue;
    const wmax = new Float64Array(t.channels);
    for (const r of t.consumers) {
      const w = constantValues(r, 1)!;
      const n = w.length / t.channels;
      for (let c = 0; c < t.channels; c++) {
        let m = wmax[c]!;
        for (let i = c * n; i < (c + 1) * n; i++) m = Math.max(m, Math.abs(w[i]!));
        wmax[c] = m;
      }
    }
    const scales = new Array<number>(t.channels);
    for (let c = 0; c < t.channels; c++) {
      const a = Math.max(Math.abs(s.min[c]!), Math.abs(s.max[c]!));
      const k = a > 0 && wmax[c]! > 0 ? a ** alpha / wmax[c]! ** (1 - alpha) : 1;
      scales[c] = Number.isFinite(k) ? Math.min(MAX_SCALE, Math.max(MIN_SCALE, k)) : 1;
    }
    out.push({ tensor: t.tensor, consumers: t.consumers.map((n) => n.name), into: t.norm.name, alpha, scales });
  }
  return out;
}

/** Carries out the decided smoothing on `model` (in place): LayerNorm gamma and beta divided, weight rows multiplied. */
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
    for (const index of [1, 2]) {
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
