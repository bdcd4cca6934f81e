/**
 * Constant weights however they are stored: a weight that is a Cast (from float16/bfloat16), a
 * Reshape, Transpose, Squeeze/Unsqueeze, Identity, Concat of constants or a DequantizeLinear of an
 * int8/int4 initializer is a constant. Converters that store weights in float16 with a Cast in
 * front of every Conv (keep-io-types float16 models, browser builds) write exactly this. Each such
 * node is folded into an initializer named as its output, in slimnet's own IR, so that planning
 * finds the weight. Models holding quantized ops (QuantizeLinear, QLinear*, ...) are left as they
 * are: their DequantizeLinear nodes are part of Q/DQ groups, not storage.
 */
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import type { Tensor } from '../tensor.js';
import { DataType, dataTypeName } from '../data-type.js';
import { FOLDABLE_OPS, foldNode } from './constant-kernels.js';

/** Ops that make a model quantized (a DequantizeLinear alone only stores a weight). */
const QUANTIZED_OPS = new Set(['QuantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'MatMulInteger', 'ConvInteger', 'MatMulNBits', 'QGemm', 'QAttention', 'DynamicQuantizeMatMul', 'DynamicQuantizeLSTM', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearGlobalAveragePool', 'QLinearConcat', 'QLinearAveragePool', 'MatMulIntegerToFloat']);

export interface FoldReport {
  /** Folded nodes by kind ('Cast float16->float32', 'Transpose', ...). */
  counts: Map<string, number>;
  /** Output name of each folded Cast from float16 -> the float16 tensor it decoded (to store it that way again). */
  float16: Map<string, Tensor>;
}

/** The first quantized op of the model, if any (such models are not folded). */
export function firstQuantizedNode(model: Model): string | undefined {
  for (const n of model.graph.allNodes()) if (QUANTIZED_OPS.has(n.opType)) return n.label();
  return undefined;
}

function kind(opType: string, inputs: (Tensor | null)[], to: number | undefined): string {
  if (opType === 'Cast') return `Cast ${dataTypeName(inputs[0]!.dataType)}->${dataTypeName(to ?? 0)}`;
  if (opType === 'DequantizeLinear') return `DequantizeLinear of ${dataTypeName(inputs[0]!.dataType)}`;
  return opType;
}

function foldIn(g: Graph, report: FoldReport): boolean {
  let changed = false;
  for (const node of [...g.nodes]) {
    for (const sg of node.subgraphs()) changed = foldIn(sg, report) || changed;
    if (node.domain !== '' || !FOLDABLE_OPS.has(node.opType) || node.outputs.length !== 1) continue;
    const out = node.outputs[0]!;
    if (!out.name || g.outputs.includes(out)) continue;
    // A graph input with a default initializer can be fed another value: not a constant.
    const inputs = node.inputs.map((v) => (v ? (v.isGraphInput ? undefined : v.constant ?? undefined) : null));
    if (inputs.some((t) => t === undefined) || !inputs[0]) continue;
    const tensors = inputs as (Tensor | null)[];
    const folded = foldNode(node, tensors);
    if (typeof folded === 'string') continue;
    const label = kind(node.opType, tensors, node.getInt('to'));
    report.counts.set(label, (report.counts.get(label) ?? 0) + 1);
    if (node.opType === 'Cast' && tensors[0]!.dataType === DataType.FLOAT16 && folded.dataType === DataType.FLOAT) report.float16.set(out.name, tensors[0]!);
    // The output value stays (same name, same uses) and becomes the initializer.
    g.remove(node, { force: true });
    out.producer = null;
    out.producerIndex = -1;
    out.type = undefined;
    g.addInitializer(out, folded);
    changed = true;
  }
  return changed;
}

/**
 * Folds constant subgraphs over initializers, to a fixed point, in every graph (If branches
 * included). Returns what was folded; nothing for a quantized model.
 */
export function foldConstants(model: Model): FoldReport {
  const report: FoldReport = { counts: new Map(), float16: new Map() };
  if (firstQuantizedNode(model)) return report;
  for (let i = 0; i < 50 && foldIn(model.graph, report); i++);
  return report;
}

/** "folded 21 constant nodes into weights (20 x Cast float16->float32, 1 x Transpose)", or undefined when none. */
export function describeFolding(report: FoldReport): string | undefined {
  const total = [...report.counts.values()].reduce((a, b) => a + b, 0);
  if (!total) return undefined;
  const parts = [...report.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} x ${k}`).join(', ');
  // Integer-stored weights: DequantizeLinear, or Cast(int8) -> Mul(scale) as slimnet's own 'storage' writes.
  const dq = [...report.counts].some(([k]) => k.startsWith('DequantizeLinear') || /^Cast u?int(4|8|16)->(float|bfloat)/.test(k));
  const again = dq ? '; the weights stored in integers are rounded a second time when quantized: quantize the float model they came from when you have it' : '';
  return `folded ${total} constant node${total > 1 ? 's' : ''} over initializers into weights before planning (${parts})${again}`;
}
