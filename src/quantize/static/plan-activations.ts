/**
 * Activation part of the plan: a range per quantized tensor (calibrated; a folded Relu/Clip's
 * output range, clipped to its bounds, for its producer's output; min/max of the data for constant
 * operands), one range per scale-sharing group (the union of its members), parameters from it, and
 * which input slots read each tensor through a DequantizeLinear.
 */
import type { Node } from '../../ir/node.js';
import type { Use, Value } from '../../ir/value.js';
import { DataError } from '../../errors.js';
import type { TensorRange } from '../../calibrate/types.js';
import { computeParams, representableRange, storageRange, type QuantParams } from '../scheme.js';
import type { ResolvedStaticOptions } from './options.js';
import type { ActivationQuant, InputRef } from './plan.js';
import { clipBounds } from './select.js';

export class UnionFind<T> {
  private readonly parent = new Map<T, T>();
  find(x: T): T {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  union(a: T, b: T): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

export interface ActivationInputs {
  quantized: Set<Value>;
  groups: UnionFind<Value>;
  /** Relu/Clip node -> the producer output it folds into. */
  folds: Map<Node, Value>;
  ranges: Map<string, TensorRange>;
  opset: number;
  options: ResolvedStaticOptions;
  /** Every reader goes through a DequantizeLinear (the producer is fused with its Q, or a constant). */
  readsAll: (v: Value) => boolean;
  /** Whether a use reads the tensor as a quantized activation. */
  reads: (u: Use) => boolean;
}

const isConstant = (v: Value) => v.constant !== undefined;

function constantRange(v: Value): TensorRange {
  const d = v.constant!.toFloat32();
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    if (d[i]! < min) min = d[i]!;
    if (d[i]! > max) max = d[i]!;
  }
  return { min, max };
}

/** ORT's condition for removing a Relu/Clip before a Q (IsClipMadeRedundantByQ). */
export function foldHolds(node: Node, p: QuantParams, opset: number): boolean {
  if (node.opType === 'Relu') return representableRange(p).min === 0;
  const b = clipBounds(node, opset);
  if (!b) return false;
  const [lo, hi] = storageRange(p.type);
  return Math.round(b.min / p.scale) + p.zeroPoint <= lo && Math.round(b.max / p.scale) + p.zeroPoint >= hi;
}

export function planActivations(a: ActivationInputs): { activations: ActivationQuant[]; paramsOf: Map<Value, QuantParams>; warnings: string[] } {
  const { quantized, groups, ranges, opset, options } = a;
  const foldOf = new Map<Value, Node>([...a.folds].map(([relu, x]) => [x, relu]));
  const rangeOf = (v: Value): TensorRange => {
    if (isConstant(v)) return constantRange(v);
    const relu = foldOf.get(v);
    const name = relu ? relu.output(0).name : v.name;
    const r = ranges.get(name);
    if (!r) {
      const reader = v.uses[0]?.node.name ?? v.producer?.name ?? '?';
      // Calibration leaves out rows holding NaN/inf: a tensor with one in every sample has no range either.
      throw new DataError(`no calibrated range for tensor '${name}' (read by node '${reader}'): the ranges do not match this model (calibrate this model again with slimnet calibrate, or pass --calib), or the tensor was NaN or infinite in every calibration sample (check the model's weights with slimnet inspect, and the data)`);
    }
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) {
      throw new DataError(`tensor '${name}' reached ${r.min}..${r.max} during calibration: the float model overflows on this data; check the model or the data's preprocessing`);
    }
    // A float32 scale (width / 255 or / 65535) must be finite: wider than ~1e38 it is not.
    if (!Number.isFinite(Math.fround((r.max - r.min) / 255))) {
      throw new DataError(`tensor '${name}' has the range ${r.min}..${r.max}, too wide for a float32 quantization scale; calibrate again, or correct the range given for it`);
    }
    if (relu?.opType === 'Clip') {
      const b = clipBounds(relu, opset)!;
      return { min: Math.max(r.min, b.min), max: Math.min(r.max, b.max) };
    }
    return r;
  };
  const groupRange = new Map<Value, TensorRange>();
  const groupSize = new Map<Value, number>();
  for (const v of quantized) {
    const root = groups.find(v);
    const r = rangeOf(v);
    const prev = groupRange.get(root);
    groupRange.set(root, prev ? { min: Math.min(prev.min, r.min), max: Math.max(prev.max, r.max) } : { ...r });
    groupSize.set(root, (groupSize.get(root) ?? 0) + 1);
  }
  const groupIds = new Map<Value, number>();
  const paramsOf = new Map<Value, QuantParams>();
  const activations: ActivationQuant[] = [];
  const warnings: string[] = [];
  for (const v of quantized) {
    const root = groups.find(v);
    const range = groupRange.get(root)!;
    let params = paramsOf.get(root);
    if (!params) {
      params = computeParams(range, options.activations, { symmetric: options.symmetricActivations });
      paramsOf.set(root, params);
    }
    const relu = foldOf.get(v);
    if (relu && !foldHolds(relu, params, opset)) warnings.push(`${relu.name}: the Q after ${v.producer!.name} does not saturate exactly where ${relu.opType} clips; ORT will not fuse it`);
    const readers: ActivationQuant['readers'] = a.readsAll(v)
      ? 'all'
      : v.uses.filter(a.reads).map((u): InputRef => ({ node: u.node.name, input: u.index }));
    const entry: ActivationQuant = { tensor: v.name, params, range, readers };
    if (isConstant(v)) entry.constant = true;
    if (groupSize.get(root)! > 1) {
      if (!groupIds.has(root)) groupIds.set(root, groupIds.size);
      entry.group = groupIds.get(root)!;
    }
    activations.push(entry);
  }
  return { activations, paramsOf, warnings };
}
