/**
 * Bias correction (Nagel et al. 2019, section 4.2): rounding a layer's weights shifts the mean of
 * its output by E[(W_q - W) x] = (W_q - W) E[x] per output channel, a systematic error that adds
 * up through the network (per-tensor weights of depthwise convolutions are the worst case). The
 * bias absorbs it: b' = b - (W_q - W) E[x], with E[x] the mean of each input channel, measured on
 * the calibration data (a channel-mean request in the calibration pass, so no extra pass over the
 * data). The analytic variant (E[x] from the BatchNorm before the layer, no data) is not
 * implemented: pre-processing folds the BatchNorms away first. For a convolution, E[x]
 * is taken over all positions; padded borders, which see zeros, are ignored.
 *
 * Which layers: every Conv, Gemm (1-D bias) and 2-D MatMul whose weight the plan quantizes or
 * stores as int8, and whose bias is a Conv/Gemm input or, for MatMul, the constant of the single
 * Add after it (exported Linear layers). A Conv or Gemm without bias gets one.
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import type { StatRequest } from '../../../calibrate/types.js';
import type { QuantPlan } from '../plan.js';
import { constantValues, writeConstant } from './constants.js';
import { dequantizedWeight, plannedWeights } from './planned-weights.js';

/** A layer whose bias can take the correction. */
export interface CorrectableLayer {
  node: Node;
  /** The tensor whose channel means are needed, and its channel axis (1 for NCHW, -1 for rows). */
  input: string;
  axis: number;
  /** Where the bias is: this node and input slot (a Conv/Gemm bias, or the constant of the Add after a MatMul). */
  bias: { node: Node; index: number } | null;
  /** Output channels. */
  channels: number;
}

/** The bias Add after a MatMul: its single reader, adding a [N] constant. */
function matmulBias(mm: Node, n: number): { node: Node; index: number } | null {
  const out = mm.output(0);
  const readers = out.consumers();
  if (readers.length !== 1 || out.isGraphOutput || out.uses.length !== 1) return null;
  const add = readers[0]!;
  if (add.opType !== 'Add' || add.domain !== '') return null;
  const index = add.input(0) === out ? 1 : 0;
  const t = add.input(index)?.constant;
  if (!t || !add.input(index)!.isInitializer || t.size !== n || t.dims[t.dims.length - 1] !== n) return null;
  return { node: add, index };
}

export function correctableLayers(model: Model): CorrectableLayer[] {
  const out: CorrectableLayer[] = [];
  for (const node of model.graph.nodes) {
    if (node.domain !== '') continue;
    const x = node.input(0);
    const w = node.input(1)?.constant;
    if (!x || !w || x.constant) continue;
    if (node.opType === 'Conv' && w.rank >= 3) {
      const b = node.input(2);
      if (b && (!b.constant || b.constant.rank !== 1)) continue;
      out.push({ node, input: x.name, axis: 1, bias: b ? { node, index: 2 } : null, channels: w.dims[0]! });
    } else if (node.opType === 'Gemm' && w.rank === 2 && !node.getInt('transA', 0)) {
      const n = node.getInt('transB', 0) ? w.dims[0]! : w.dims[1]!;
      const b = node.input(2);
      if (b && (!b.constant || b.constant.rank !== 1 || b.constant.size !== n)) continue;
      out.push({ node, input: x.name, axis: -1, bias: b ? { node, index: 2 } : null, channels: n });
    } else if (node.opType === 'MatMul' && w.rank === 2) {
      const bias = matmulBias(node, w.dims[1]!);
      if (bias) out.push({ node, input: x.name, axis: -1, bias, channels: w.dims[1]! });
    }
  }
  return out;
}

/** One channel-mean request per distinct input (shared inputs, such as Q/K/V projections, once). */
export function biasMeanRequests(layers: readonly CorrectableLayer[]): StatRequest[] {
  const seen = new Map<string, StatRequest>();
  for (const l of layers) if (!seen.has(l.input)) seen.set(l.input, { tensor: l.input, kind: 'channel-mean', axis: l.axis });
  return [...seen.values()];
}

export interface BiasShift {
  node: string;
  /** Per output channel, what is added to the bias. */
  shift: Float64Array;
}

/** -(W_q - W) E[x] per output channel, for the layer's weight layout. */
function layerShift(l: CorrectableLayer, error: Float64Array, dims: readonly number[], mean: ArrayLike<number>): Float64Array {
  const shift = new Float64Array(l.channels);
  const n = l.node;
  if (n.opType === 'Conv') {
    const [m, cg] = dims as [number, number];
    const taps = error.length / (m * cg);
    const mg = m / (n.getInt('group', 1) ?? 1);
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / mg);
      let s = 0;
      for (let c = 0; c < cg; c++) {
        const base = (o * cg + c) * taps;
        let e = 0;
        for (let t = 0; t < taps; t++) e += error[base + t]!;
        s += e * mean[g * cg + c]!;
      }
      shift[o] = -s;
    }
  } else if (n.opType === 'Gemm' && n.getInt('transB', 0)) {
    const [rows, k] = dims as [number, number];
    for (let o = 0; o < rows; o++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += error[o * k + i]! * mean[i]!;
      shift[o] = -s;
    }
  } else {
    const [k, cols] = dims as [number, number];
    for (let i = 0; i < k; i++) {
      const x = mean[i]!;
      if (x === 0) continue;
      for (let o = 0; o < cols; o++) shift[o]! -= error[i * cols + o]! * x;
    }
  }
  return shift;
}

/**
 * The bias shifts for the weights this plan writes as integers. Layers without means (a tensor the
 * data could not reach) are left alone.
 */
export function biasShifts(model: Model, plan: QuantPlan, means: ReadonlyMap<string, ArrayLike<number>>): BiasShift[] {
  const planned = plannedWeights(plan);
  const out: BiasShift[] = [];
  for (const l of correctableLayers(model)) {
    const wv = l.node.input(1)!;
    const pw = planned.get(wv.name);
    const mean = means.get(l.input);
    if (!pw || !mean) continue;
    const t = wv.constant!;
    const values = t.toFloat32();
    const q = dequantizedWeight(values, t.dims, pw);
    const error = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) error[i] = q[i]! - values[i]!;
    out.push({ node: l.node.name, shift: layerShift(l, error, t.dims, mean) });
  }
  return out;
}

/** Adds the shifts to the biases of `model` (in place; a Conv/Gemm without bias gets one). */
export function applyBiasShifts(model: Model, shifts: readonly BiasShift[]): void {
  const layers = new Map(correctableLayers(model).map((l) => [l.node.name, l]));
  for (const s of shifts) {
    const l = layers.get(s.node);
    if (!l) continue;
    const at = l.bias ?? { node: l.node, index: 2 };
    const old = constantValues(at.node, at.index);
    const dims = at.node.input(at.index)?.constant?.dims ?? [l.channels];
    const b = new Float32Array(l.channels);
    for (let c = 0; c < l.channels; c++) b[c] = Math.fround((old?.[c] ?? 0) + s.shift[c]!);
    // A bias shared with another layer gets a copy (writeConstant): the other layer's error differs.
    writeConstant(model, at.node, at.index, [...dims], b, `${l.node.name}_bias`);
  }
}
