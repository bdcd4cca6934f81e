/**
 * Reads the quantization of a QDQ model from its structure. A DequantizeLinear whose input comes
 * from a QuantizeLinear stands for the float tensor that Q consumed (an activation quantizer); a
 * DequantizeLinear of an integer constant is a weight (or bias) whose float original is not in the
 * file. The nodes that consume DQ outputs are the quantized "layers". Nothing here reads names.
 */
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import type { Tensor } from '../ir/tensor.js';
import { DataType, dataTypeName, integerRange } from '../ir/data-type.js';
import { decodedConstant } from '../ir/decoded-constant.js';

export type QuantizerKind = 'activation' | 'weight' | 'bias';

export interface QuantParams {
  /** Integer type name ('uint8', 'int8', ...). */
  type: string;
  qmin: number;
  qmax: number;
  scale: Float32Array;
  zeroPoint: Float64Array;
  /** Per-channel axis (normalized, non-negative) when scale has more than one element. */
  axis?: number;
}

export interface Quantizer {
  kind: QuantizerKind;
  dequantize: Node;
  /** The DQ output every consumer reads. */
  dequantized: Value;
  /** Activation quantizers: the Q node and the float tensor it quantizes. */
  quantize?: Node;
  float?: Value;
  /** Weight/bias quantizers: the integer constant. */
  integer?: Tensor;
  params: QuantParams;
}

export interface LayerInput {
  index: number;
  quantizer: Quantizer;
}

/** A node that reads at least one dequantized tensor. */
export interface QuantLayer {
  node: Node;
  /** Position in the main graph's node list (stable across cloneModel). */
  position: number;
  inputs: LayerInput[];
}

export interface QdqStructure {
  quantizers: Quantizer[];
  layers: QuantLayer[];
  /** Things the analysis cannot use, for the notes. */
  skipped: string[];
}

const isQ = (n: Node | null | undefined): n is Node => !!n && n.opType === 'QuantizeLinear' && (n.domain === '' || n.domain === 'com.microsoft');
const isDQ = (n: Node | null | undefined): n is Node => !!n && n.opType === 'DequantizeLinear' && (n.domain === '' || n.domain === 'com.microsoft');

/** Scale, zero point and axis of a Q or DQ node, when they are constants. */
export function quantParams(node: Node, integerType: DataType | undefined, rank: number | undefined): QuantParams | undefined {
  const scaleT = decodedConstant(node.input(1));
  if (!scaleT) return undefined;
  const zpT = node.input(2)?.constant;
  const type = zpT?.dataType ?? integerType ?? (node.getInt('output_dtype') as DataType | undefined) ?? DataType.UINT8;
  let qmin: number, qmax: number;
  try { [qmin, qmax] = integerRange(type); } catch { return undefined; }
  const scale = scaleT.toFloat32();
  const zeroPoint = zpT ? Float64Array.from(zpT.toNumbers()) : new Float64Array(scale.length);
  const params: QuantParams = { type: dataTypeName(type).toLowerCase(), qmin, qmax, scale, zeroPoint };
  if (scale.length > 1) {
    if (node.getInt('block_size', 0) > 0) return undefined;
    const axis = node.getInt('axis', 1);
    params.axis = axis < 0 && rank !== undefined ? axis + rank : axis;
  }
  return params;
}

const isQdqNode = (n: Node): boolean => isQ(n) || isDQ(n);

export function findQdq(model: Model): QdqStructure {
  const g = model.graph;
  const skipped: string[] = [];
  const byDQ = new Map<Node, Quantizer>();
  for (const dq of g.nodes) {
    if (!isDQ(dq)) continue;
    const src = dq.input(0);
    if (!src) continue;
    const q = src.producer;
    if (isQ(q)) {
      const float = q.input(0);
      const params = quantParams(dq, src.elemType, float?.shape?.length);
      if (!float || !params) { skipped.push(`${dq.name || dq.opType}: scale or zero point is not a constant`); continue; }
      byDQ.set(dq, { kind: 'activation', dequantize: dq, dequantized: dq.output(0), quantize: q, float, params });
      continue;
    }
    const integer = src.constant;
    if (integer) {
      const params = quantParams(dq, integer.dataType, integer.rank);
      if (!params) { skipped.push(`${dq.name || dq.opType}: scale/zero point not constant, or block-quantized weights`); continue; }
      const kind: QuantizerKind = integer.dataType === DataType.INT32 ? 'bias' : 'weight';
      byDQ.set(dq, { kind, dequantize: dq, dequantized: dq.output(0), integer, params });
      continue;
    }
    skipped.push(`${dq.name || dq.opType}: its input is neither a QuantizeLinear output nor a constant`);
  }
  const layers: QuantLayer[] = [];
  g.nodes.forEach((node, position) => {
    if (isQdqNode(node)) return;
    const inputs: LayerInput[] = [];
    node.inputs.forEach((v, index) => {
      const quantizer = v?.producer ? byDQ.get(v.producer) : undefined;
      if (quantizer) inputs.push({ index, quantizer });
    });
    if (inputs.length) layers.push({ node, position, inputs });
  });
  let nested = 0;
  for (const n of g.nodes) for (const sg of n.subgraphs()) for (const m of sg.allNodes()) if (isDQ(m)) nested++;
  if (nested) skipped.push(`${nested} DequantizeLinear node${nested > 1 ? 's' : ''} inside subgraphs (If/Loop bodies) not analysed: per-layer analysis covers the main graph`);
  for (const qz of byDQ.values()) {
    if (qz.dequantized.isGraphOutput) skipped.push(`${qz.dequantize.name || 'DequantizeLinear'}: its output is a graph output, not read by a layer`);
  }
  return { quantizers: [...byDQ.values()], layers, skipped };
}

/** Whether a model has any Q/DQ pair or quantized constant to analyse. */
export function hasQdq(model: Model): boolean {
  return model.graph.nodes.some((n) => isDQ(n));
}

/** Ops of the QOperator format, which per-layer analysis cannot take apart. */
export function qoperatorOps(model: Model): string[] {
  const ops = new Set<string>();
  for (const n of model.graph.nodes) if (/^QLinear|^(ConvInteger|MatMulInteger|QGemm|QAttention|DynamicQuantizeLinear)$/.test(n.opType)) ops.add(n.opType);
  return [...ops];
}

/** Float values of an integer tensor under these parameters: (q − zp)·scale, per channel on `axis`. */
export function dequantize(values: ArrayLike<number>, dims: readonly number[], p: QuantParams): Float32Array {
  const out = new Float32Array(values.length);
  if (p.scale.length === 1) {
    const s = p.scale[0]!, z = p.zeroPoint[0]!;
    for (let i = 0; i < out.length; i++) out[i] = (values[i]! - z) * s;
    return out;
  }
  const axis = p.axis ?? 1;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = dims[axis]!;
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (values[i]! - p.zeroPoint[c]!) * p.scale[c]!;
  }
  return out;
}

/** The float range a quantizer can represent: [(qmin − zp)·s, (qmax − zp)·s], widest over channels. */
export function representableRange(p: QuantParams): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (let c = 0; c < p.scale.length; c++) {
    min = Math.min(min, (p.qmin - p.zeroPoint[c]!) * p.scale[c]!);
    max = Math.max(max, (p.qmax - p.zeroPoint[c]!) * p.scale[c]!);
  }
  return { min, max };
}
