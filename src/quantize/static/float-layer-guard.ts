/**
 * Keeps float Conv/ConvTranspose/Gemm layers float when they read a dequantized tensor.
 *
 * ONNX Runtime's WeightBiasQuantization (level 1, on by default) takes such a layer whose output
 * is quantized again for the next layer and quantizes its float weight itself (per-tensor int8) and
 * its float bias (with Round, and a DequantizeLinear with axis): a layer slimnet kept in float for
 * accuracy then runs with coarser weights than an int8 layer would have, and before opset 13 the
 * model no longer loads ("uses op Round, which opset 10 does not define"). The rewrite is skipped
 * when the bias is not an initializer, so the bias (or a zero bias) is given as the
 * DequantizeLinear of an int32 tensor with a power-of-two scale fine enough to be exact in float32.
 */
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { definingGraph, type QdqWriter, type Resolver } from './apply-qdq.js';
import type { QuantPlan } from './plan.js';

const REWRITTEN = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/** The constant behind a weight input: an initializer, or the int8 data of its DequantizeLinear. */
function weightDims(w: Value | null): readonly number[] | undefined {
  if (!w) return undefined;
  if (w.constant) return w.constant.dims;
  const p = w.producer;
  return p?.opType === 'DequantizeLinear' ? p.input(0)?.constant?.dims : undefined;
}

/** Output channels: the length a bias must have. */
function outputChannels(node: Node): number | undefined {
  const dims = weightDims(node.input(1));
  if (!dims) return undefined;
  if (node.opType === 'Conv') return dims[0];
  if (node.opType === 'ConvTranspose') return dims.length > 1 ? dims[1]! * node.getInt('group', 1) : undefined;
  return dims.length === 2 ? dims[node.getInt('transB', 0) ? 0 : 1] : undefined;
}

/** int32 values and a power-of-two scale that reproduce `bias` to float32 precision. */
function exactInt32(bias: Float32Array): { q: Int32Array; scale: number } {
  let max = 0;
  for (const b of bias) max = Math.max(max, Math.abs(b));
  // The largest power of two that keeps max / scale within int32: 2^30 steps over the range leave
  // an error of at most max * 2^-31, below float32's resolution of max.
  const scale = max > 0 ? 2 ** (Math.floor(Math.log2(max)) - 30) : 1;
  return { q: Int32Array.from(bias, (b) => Math.round(b / scale)), scale };
}

export function guardFloatLayers(plan: QuantPlan, r: Resolver, w: QdqWriter): void {
  for (const p of plan.nodes) {
    if (p.action !== 'float' || !REWRITTEN.has(p.op)) continue;
    const node = r.node(p.node);
    if (node.input(0)?.producer?.opType !== 'DequantizeLinear') continue;
    if (node.inputs.length < 2) continue;
    const bias = node.inputs.length > 2 ? node.input(2) : null;
    if (bias && !(bias.constant && bias.constant.rank === 1)) continue; // computed, or a 2-D Gemm C: not rewritten
    const n = bias?.constant?.size ?? outputChannels(node);
    if (n === undefined) continue;
    const values = bias?.constant ? bias.constant.toFloat32() : new Float32Array(n);
    const { q, scale } = exactInt32(values);
    const g = definingGraph(node.input(1) ?? node.input(0)!, w.model.graph);
    const base = bias?.name ?? `${p.node}_bias`;
    const qv = w.initializer(g, base, 'q', Tensor.fromTyped(DataType.INT32, [n], q));
    const sv = w.initializer(g, base, 'scale', Tensor.float([], [scale]));
    const dq = w.dequantize(base, qv, sv, null, null, { before: node });
    if (node.inputs.length > 2) node.replaceInput(2, dq);
    else node.appendInput(dq);
  }
}
