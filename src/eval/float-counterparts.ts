/**
 * What a QDQ model lost that its float twin needs back, found through the reference model:
 *  - weights: the float original of a weight quantizer, from the reference node that produces the
 *    same output value with the same op type and a float weight of the same shape (a layer whose
 *    counterpart differs, e.g. BatchNorm folded into the quantized Conv, has none: its weight error
 *    is then estimated and the twin keeps the dequantized weight);
 *  - folds: a Relu or Clip the quantizer removed because the Q saturates where it clipped (what ONNX
 *    Runtime's ReluQuantFusion/ClipQuantFusion do). The DQ output then stands for Relu(x), not x:
 *    the reference reads x through that Relu/Clip, the candidate does not. Without a reference, a
 *    quantizer whose range starts exactly at 0 (zero point at the type's minimum) is taken to stand
 *    for Relu(x): on a tensor without negative values that changes nothing, and a calibrated range
 *    of a tensor with negative values does not start at 0.
 */
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Tensor } from '../ir/tensor.js';
import type { QdqStructure, Quantizer } from './qdq-structure.js';
import { representableRange } from './qdq-structure.js';

export interface FoldedActivation {
  op: 'Relu' | 'Clip';
  min: number;
  max: number;
  /** Found in the reference model, or assumed from the range (no reference). */
  source: 'reference' | 'range';
}

export interface FloatCounterparts {
  weights: Map<Quantizer, Tensor>;
  folds: Map<Quantizer, FoldedActivation>;
}

function clipBounds(node: Node): { min: number; max: number } {
  // Clip-11+ takes min/max as inputs; Clip-6 as attributes.
  const input = (i: number) => node.input(i)?.constant?.toNumbers()[0];
  return {
    min: input(1) ?? node.getFloat('min') ?? -Infinity,
    max: input(2) ?? node.getFloat('max') ?? Infinity,
  };
}

function activationOf(node: Node): FoldedActivation | undefined {
  if (node.domain !== '') return undefined;
  if (node.opType === 'Relu') return { op: 'Relu', min: 0, max: Infinity, source: 'reference' };
  if (node.opType === 'Clip') return { op: 'Clip', ...clipBounds(node), source: 'reference' };
  return undefined;
}

export function matchReference(structure: QdqStructure, reference: Model | undefined): FloatCounterparts {
  const weights = new Map<Quantizer, Tensor>();
  const folds = new Map<Quantizer, FoldedActivation>();
  const producers = new Map<string, Node>();
  const values = new Map<string, { consumers(): Node[] }>();
  if (reference) {
    for (const v of reference.graph.values()) values.set(v.name, v);
    for (const n of reference.graph.nodes) for (const o of n.outputs) if (o.name) producers.set(o.name, n);
  }
  for (const layer of structure.layers) {
    const twin = producers.get(layer.node.output(0).name);
    for (const { index, quantizer } of layer.inputs) {
      if (quantizer.kind !== 'weight' || !twin || twin.opType !== layer.node.opType) continue;
      const t = twin.input(index)?.constant;
      if (t && t.dataType === 1 && t.dims.join(',') === quantizer.integer!.dims.join(',')) weights.set(quantizer, t);
    }
  }
  for (const q of structure.quantizers) {
    if (q.kind !== 'activation') continue;
    const x = q.float!;
    const inCandidate = new Set(x.consumers().map((n) => n.opType));
    const refValue = values.get(x.name);
    if (refValue) {
      const act = refValue.consumers().map(activationOf).find((a) => a && !inCandidate.has(a.op));
      if (act) folds.set(q, act);
    } else if (!reference && q.params.scale.length === 1 && representableRange(q.params).min === 0 && q.params.zeroPoint[0] === q.params.qmin) {
      folds.set(q, { op: 'Relu', min: 0, max: Infinity, source: 'range' });
    }
  }
  return { weights, folds };
}

/** The float function a folded quantizer stands for (a new array; `values` itself without a fold). */
export function applyFold(values: Float32Array, fold: FoldedActivation | undefined): Float32Array {
  if (!fold) return values;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(fold.max, Math.max(fold.min, values[i]!));
  return out;
}
