/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization"): for consecutive
 * convolutions y = W2 act(W1 x + b1), output channel i of W1 (with b1_i) is divided by s_i and
 * input channel i of W2 multiplied by it, which leaves the float function unchanged when act is
 * positive-homogeneous (act(z / s) = act(z) / s: Relu, none). s_i = sqrt(r1_i / r2_i) makes the
 * ranges of the two equal (r1_i / s_i = r2_i s_i), so one per-tensor scale fits every channel of
 * both weights much better; a chain (depthwise -> pointwise -> depthwise ...) is iterated until the
 * scales settle.
 *
 * Clip(0, 6) (ReLU6) is not positive-homogeneous: clip(z / s, 0, 6) = clip(z, 0, 6 s) / s. It is
 * exact only for channels whose values never reach the clip, so such a channel is scaled only when
 * its calibrated maximum, with CLIP_MARGIN to spare, stays below 6 and below 6 s afterwards (s is
 * bounded below by max (1 + margin) / 6); a channel that reaches the clip keeps s = 1. This needs
 * per-channel maxima from the calibration data.
 *
 * High-bias absorption (same paper, section 4.1.2): a channel whose activation never falls below
 * c > 0 on the data gives c to the next layer's bias (b1 - c, b2 + W2 c), which narrows its range.
 * Exact on the calibration data only where the next convolution does not pad (padded borders would
 * see 0 instead of -c) and the clip is not reached, so it is done only there.
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import type { StatRequest } from '../../../calibrate/types.js';
import type { Statistics } from '../../../calibrate/stats/statistics.js';
import { clipBounds } from '../select.js';
import { constantValues, ownsConstant, writeConstant } from './constants.js';
import type { EqualizedPair } from './decisions.js';

/** Headroom over the calibrated maximum a ReLU6 channel must keep below the clip to be scaled. */
export const CLIP_MARGIN = 0.2;
/** Sweeps over the chain at most, and the change of log s below which it has settled. */
const MAX_SWEEPS = 50;
const SETTLED = 1e-4;

export interface ConvPair {
  first: Node;
  /** Relu or Clip between the two, or null. */
  act: Node | null;
  second: Node;
  /** The activation's upper clip (Infinity for Relu or none). */
  clipMax: number;
}

const isConv = (n: Node) => n.opType === 'Conv' && n.domain === '';

/** The tensor `second` reads: the activation's output, or `first`'s. */
export const pairTensor = (p: ConvPair): string => (p.act ?? p.first).output(0).name;

/** A Conv whose weight (and bias, if any) only it reads: its channels can be rescaled. */
function rescalable(n: Node): boolean {
  const w = n.input(1)?.constant;
  return isConv(n) && !!w && w.rank >= 3 && ownsConstant(n, 1) && (!n.input(2) || ownsConstant(n, 2)) && !n.getString('auto_pad', 'NOTSET')!.startsWith('SAME_');
}

/** The only reader of `node`'s output (not a graph output), or undefined. */
function soleReader(node: Node): Node | undefined {
  const out = node.output(0);
  const readers = out.consumers();
  return readers.length === 1 && !out.isGraphOutput && out.uses.length === 1 ? readers[0] : undefined;
}

/** Conv -> (Relu | Clip(0, hi))? -> Conv pairs in graph order (main graph). */
export function convPairs(model: Model): ConvPair[] {
  const opset = model.opset('') ?? 1;
  const pairs: ConvPair[] = [];
  for (const first of model.graph.nodes) {
    if (!rescalable(first)) continue;
    let next = soleReader(first);
    let act: Node | null = null;
    let clipMax = Infinity;
    if (next && (next.opType === 'Relu' || next.opType === 'Clip') && next.domain === '') {
      if (next.opType === 'Clip') {
        const b = clipBounds(next, opset);
        if (!b || b.min !== 0 || !(b.max > 0)) continue; // only ReLU and ReLU6-like clips are (partly) homogeneous
        clipMax = b.max;
      }
      act = next;
      next = soleReader(next);
    }
    if (!next || !rescalable(next) || next.input(0) !== (act ?? first).output(0)) continue;
    const m = first.input(1)!.constant!.dims[0]!;
    const w2 = next.input(1)!.constant!.dims;
    if (w2[1]! * next.getInt('group', 1)! !== m) continue;
    pairs.push({ first, act, second: next, clipMax });
  }
  return pairs;
}

/** Whether a pair needs calibration statistics: a clip to respect, or a bias to absorb. */
const needsData = (p: ConvPair) => Number.isFinite(p.clipMax) || (p.act !== null && padsNothing(p.second));

function padsNothing(n: Node): boolean {
  return (n.getInts('pads') ?? []).every((x) => x === 0) && n.getString('auto_pad', 'NOTSET') !== 'SAME_UPPER' && n.getString('auto_pad', 'NOTSET') !== 'SAME_LOWER';
}

/** Per-channel extremes of the tensors between pairs that need them (axis 1, NCHW). */
export function equalizationRequests(pairs: readonly ConvPair[]): StatRequest[] {
  return pairs.filter(needsData).map((p) => ({ tensor: pairTensor(p), kind: 'channel-minmax', axis: 1 }));
}

interface Working {
  w: Float64Array;
  dims: readonly number[];
  group: number;
}

/** absmax of each output channel (rows of [M, C/g, ...]). */
function rowRanges(x: Working): Float64Array {
  const m = x.dims[0]!;
  const per = x.w.length / m;
  const out = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    let r = 0;
    for (let i = o * per; i < (o + 1) * per; i++) r = Math.max(r, Math.abs(x.w[i]!));
    out[o] = r;
  }
  return out;
}

/** absmax of each input channel (channel c of group g is column c - g Cg of the group's rows). */
function columnRanges(x: Working): Float64Array {
  const [m, cg] = x.dims as [number, number];
  const taps = x.w.length / (m * cg);
  const mg = m / x.group;
  const out = new Float64Array(cg * x.group);
  for (let o = 0; o < m; o++) {
    const g = Math.floor(o / mg);
    for (let c = 0; c < cg; c++) {
      const base = (o * cg + c) * taps;
      let r = out[g * cg + c]!;
      for (let t = 0; t < taps; t++) r = Math.max(r, Math.abs(x.w[base + t]!));
      out[g * cg + c] = r;
    }
  }
  return out;
}

/** Multiplies output channel o of W by f[o] (rows). */
function scaleRows(w: { length: number; [i: number]: number }, m: number, f: ArrayLike<number>, exact: (x: number) => number): void {
  const per = w.length / m;
  for (let o = 0; o < m; o++) for (let i = o * per; i < (o + 1) * per; i++) w[i] = exact(w[i]! * f[o]!);
}

/** Multiplies input channel c of W [M, C/g, ...] by f[c]. */
function scaleColumns(w: { length: number; [i: number]: number }, dims: readonly number[], group: number, f: ArrayLike<number>, exact: (x: number) => number): void {
  const [m, cg] = dims as [number, number];
  const taps = w.length / (m * cg);
  const mg = m / group;
  for (let o = 0; o < m; o++) {
    const g = Math.floor(o / mg);
    for (let c = 0; c < cg; c++) {
      const k = f[g * cg + c]!;
      const base = (o * cg + c) * taps;
      for (let t = 0; t < taps; t++) w[base + t] = exact(w[base + t]! * k);
    }
  }
}

const same = (x: number) => x;

/** Lower and upper bounds of each channel's cumulative scale (a ReLU6 channel stays below its clip); [1, 1] pins it. */
function scaleBounds(p: ConvPair, stats: Statistics | undefined, channels: number): { lo: Float64Array; hi: Float64Array; skipped: number } {
  const lo = new Float64Array(channels).fill(0);
  const hi = new Float64Array(channels).fill(Infinity);
  if (!Number.isFinite(p.clipMax)) return { lo, hi, skipped: 0 };
  const s = stats?.get({ tensor: pairTensor(p), kind: 'channel-minmax', axis: 1 });
  let skipped = 0;
  for (let c = 0; c < channels; c++) {
    const m = s ? s.max[c]! : Infinity;
    if (m * (1 + CLIP_MARGIN) > p.clipMax) {
      lo[c] = 1;
      hi[c] = 1;
      skipped++;
    } else {
      lo[c] = Math.max(m, 0) * (1 + CLIP_MARGIN) / p.clipMax;
    }
  }
  return { lo, hi, skipped };
}

export interface EqualizationResult {
  pairs: EqualizedPair[];
  /** Channels left unscaled because they reach their ReLU6 clip. */
  clipped: number;
  channels: number;
}

/**
 * Decides the scales (and the biases to absorb) of every pair. Works on float64 copies of the
 * weights, sweeping the chain until no scale moves; the model is not touched (applyEqualization
 * does that, from the decisions alone, so a recipe replays them without data).
 */
export function computeEqualization(pairs: readonly ConvPair[], stats: Statistics | undefined): EqualizationResult {
  const work = new Map<Node, Working>();
  const get = (n: Node) => {
    let x = work.get(n);
    if (!x) {
      x = { w: Float64Array.from(n.input(1)!.constant!.toFloat32()), dims: n.input(1)!.constant!.dims, group: n.getInt('group', 1)! };
      work.set(n, x);
    }
    return x;
  };
  const usable = pairs.filter((p) => !Number.isFinite(p.clipMax) || stats?.get({ tensor: pairTensor(p), kind: 'channel-minmax', axis: 1 }));
  const total = usable.map((p) => new Float64Array(p.first.input(1)!.constant!.dims[0]!).fill(1));
  const bounds = usable.map((p, i) => scaleBounds(p, stats, total[i]!.length));
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let moved = 0;
    usable.forEach((p, k) => {
      const a = get(p.first);
      const b = get(p.second);
      const r1 = rowRanges(a);
      const r2 = columnRanges(b);
      const s = new Float64Array(r1.length);
      const { lo, hi } = bounds[k]!;
      for (let c = 0; c < s.length; c++) {
        let f = r1[c]! > 0 && r2[c]! > 0 ? Math.sqrt(r1[c]! / r2[c]!) : 1;
        const t = total[k]![c]! * f;
        if (t < lo[c]!) f = lo[c]! / total[k]![c]!;
        else if (t > hi[c]!) f = hi[c]! / total[k]![c]!;
        s[c] = f;
        total[k]![c] = total[k]![c]! * f;
        moved = Math.max(moved, Math.abs(Math.log(f)));
      }
      scaleRows(a.w, s.length, s.map((x) => 1 / x), same);
      scaleColumns(b.w, b.dims, b.group, s, same);
    });
    if (moved < SETTLED) break;
  }
  const out: EqualizedPair[] = usable.map((p, k) => {
    const pair: EqualizedPair = { first: p.first.name, second: p.second.name, scales: Array.from(total[k]!) };
    const absorbed = absorbable(p, stats, total[k]!);
    if (absorbed) pair.absorbed = absorbed;
    return pair;
  });
  return { pairs: out, clipped: bounds.reduce((s, b) => s + b.skipped, 0), channels: total.reduce((s, t) => s + t.length, 0) };
}

/** High-bias absorption: per channel, the activation's calibrated minimum after scaling (0 where not exact). */
function absorbable(p: ConvPair, stats: Statistics | undefined, scales: Float64Array): number[] | undefined {
  if (!p.act || !padsNothing(p.second)) return undefined;
  const s = stats?.get({ tensor: pairTensor(p), kind: 'channel-minmax', axis: 1 });
  if (!s) return undefined;
  const c = Array.from(scales, (k, i) => {
    const below = s.max[i]! * (1 + CLIP_MARGIN) <= p.clipMax; // the clip is never reached
    return below && s.min[i]! > 0 ? Math.fround(s.min[i]! / k) : 0;
  });
  return c.some((x) => x > 0) ? c : undefined;
}

/** Carries out the decided scales and absorptions on `model` (in place), in the recorded order. */
export function applyEqualization(model: Model, pairs: readonly EqualizedPair[]): void {
  const byName = new Map(model.graph.nodes.map((n) => [n.name, n]));
  for (const p of pairs) {
    const first = byName.get(p.first);
    const second = byName.get(p.second);
    if (!first || !second) throw new Error(`equalization names ${first ? p.second : p.first}, which the model does not have`);
    const m = p.scales.length;
    const inv = p.scales.map((s) => 1 / s);
    const w1 = first.input(1)!.constant!;
    const a = w1.toFloat32().slice();
    scaleRows(a, m, inv, Math.fround);
    writeConstant(model, first, 1, [...w1.dims], a, `${p.first}_W`);
    const b1 = constantValues(first, 2)?.slice() ?? (p.absorbed ? new Float32Array(m) : undefined);
    if (b1) {
      for (let c = 0; c < m; c++) b1[c] = Math.fround(b1[c]! * inv[c]! - (p.absorbed?.[c] ?? 0));
      writeConstant(model, first, 2, [m], b1, `${p.first}_B`);
    }
    const w2 = second.input(1)!.constant!;
    const b = w2.toFloat32().slice();
    scaleColumns(b, w2.dims, second.getInt('group', 1)!, p.scales, Math.fround);
    writeConstant(model, second, 1, [...w2.dims], b, `${p.second}_W`);
    if (p.absorbed) absorbInto(model, second, b, w2.dims, p.absorbed);
  }
}

/** b2 += W2 c: each output channel gains the sum of its weights times the absorbed inputs. */
function absorbInto(model: Model, conv: Node, w: Float32Array, dims: readonly number[], c: readonly number[]): void {
  const [m, cg] = dims as [number, number];
  const taps = w.length / (m * cg);
  const group = conv.getInt('group', 1)!;
  const mg = m / group;
  const b = constantValues(conv, 2)?.slice() ?? new Float32Array(m);
  for (let o = 0; o < m; o++) {
    const g = Math.floor(o / mg);
    let add = 0;
    for (let ch = 0; ch < cg; ch++) {
      const k = c[g * cg + ch]!;
      if (k === 0) continue;
      const base = (o * cg + ch) * taps;
      for (let t = 0; t < taps; t++) add += w[base + t]! * k;
    }
    b[o] = Math.fround(b[o]! + add);
  }
  writeConstant(model, conv, 2, [m], b, `${conv.name}_B`);
}
