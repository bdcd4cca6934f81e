/**
 * Stored constants: float constants that float ops read, written as int8 with scales and decoded by
 * Cast -> Mul. ONNX Runtime's constant folding (level 'basic' and above) turns the pair back into a
 * float initializer when it loads the model, so the ops run exactly as fast as before while the
 * file shrinks about 4x. (A DequantizeLinear would be smaller still, but ORT never folds it: it
 * keeps DQ nodes for its QDQ fusions and runs them on every inference. Measured on ORT 1.30: the
 * PaddleOCR classifier with DequantizeLinear weights ran 1.6x slower than float; with Cast -> Mul,
 * as fast as float.)
 *
 * Three kinds, all only where every reader is a float op:
 * - weights of weighted ops kept in float (int8 measured slower there, placement 'storage', or no
 *   int8 kernel such as ConvTranspose): per-channel on the op's weight axis, like quantized weights;
 * - other large float constants in data operands (position tables, biases, embedding tables):
 *   one scale per tensor, kept when the stored values reach MIN_SQNR_DB and MAX_L1_ERROR, or,
 *   for a constant that is added into a tensor (a bias, a position table), when its largest error
 *   is below a quarter of an 8-bit step of that tensor's calibrated range;
 * - short 1-D constants (LayerNorm scales and biases) by the same rule, in pools (see below).
 * Nodes the user kept in float (--exclude, --op-types) keep their float constants.
 */
import { DataType } from '../../ir/data-type.js';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import type { Tensor } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import { opSupport, weightAxis } from '../../ops/op-support.js';
import { channelAbsMax, quantizeWeight, symmetricWeightScales, type WeightScales } from '../weights.js';
import type { GivenWeight } from './requantize.js';
import { MIN_FLOAT16_SCALES, toFloat16Up } from './float16-scales.js';
import type { InputRef, StoredConstant } from './plan.js';
import type { TensorRange } from '../../calibrate/types.js';

/** Below this the Cast and Mul nodes cost about as many bytes as the int8 form saves. */
export const MIN_STORED_ELEMENTS = 128;
/**
 * Smaller 1-D constants (LayerNorm scales and biases, the biases of float ops) are stored only in
 * pools: all of one length in a graph share one int8 [k, L] initializer, decoded once by
 * Cast -> Mul -> Reshape -> Split, which ORT folds at load like the single form. Each member
 * saves 3L - 12 bytes (int8 instead of float, its own scale and split entry); the four decode
 * nodes, their names and initializers cost about POOL_OVERHEAD_BYTES.
 */
const MIN_POOLED_ELEMENTS = 8;
const POOL_OVERHEAD_BYTES = 400;
/** Quantization noise 40 dB below the constant: far below the noise of 8-bit activations. */
export const MIN_SQNR_DB = 40;
/**
 * And a mean absolute error at most 1% of the mean magnitude: SQNR alone is blind to a tensor whose
 * energy sits in a few outliers, where one scale flattens every other value to zero.
 */
export const MAX_L1_ERROR = 0.01;

/** Slots whose constant is added into the node's output: its error lands there unscaled. */
const ADDITIVE_SLOTS: Record<string, number[] | 'all'> = {
  Add: 'all', Sub: 'all', Concat: 'all', Gather: [0], Where: [1, 2], LayerNormalization: [2], Conv: [2], ConvTranspose: [2], Gemm: [2],
};
/** A quarter of one 8-bit step: below the rounding error of 8-bit activations. */
const ADDITIVE_FRACTION = 1 / (255 * 4);

/** Input slots that carry data (not shapes, scales of a Resize, pad values, ...). */
const DATA_SLOTS: Record<string, number[] | 'all'> = {
  Add: 'all', Sub: 'all', Mul: 'all', Div: 'all', Concat: 'all', Sum: 'all', Max: 'all', Min: 'all',
  MatMul: [0, 1], Gemm: [0, 1, 2], Conv: [1, 2], ConvTranspose: [1, 2], PRelu: [1], Where: [1, 2],
  LayerNormalization: [1, 2], Gather: [0], Einsum: 'all',
};
const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

const inSlots = (table: Record<string, number[] | 'all'>, n: Node, index: number): boolean => {
  if (n.domain !== '') return false;
  const slots = table[n.opType];
  return slots === 'all' || (slots !== undefined && slots.includes(index));
};
const isDataSlot = (n: Node, index: number) => inSlots(DATA_SLOTS, n, index);

/** The smallest calibrated range of the tensors `v` is added into, when every use is additive. */
function additiveRange(v: Value, ranges: ReadonlyMap<string, TensorRange>): number | undefined {
  let smallest = Infinity;
  for (const u of v.uses) {
    const r = inSlots(ADDITIVE_SLOTS, u.node, u.index) ? ranges.get(u.node.output(0).name) : undefined;
    if (!r || !Number.isFinite(r.max - r.min)) return undefined;
    smallest = Math.min(smallest, r.max - r.min);
  }
  return smallest;
}

/** Per-channel axis when `v` is the weight of a weighted op (all its readers agree), else null. */
function weightAxisOf(v: Value, t: Tensor): number | null | undefined {
  let axis: number | null | undefined;
  for (const u of v.uses) {
    const sup = opSupport(u.node.opType, u.node.domain);
    const w = WEIGHT_OPS.has(u.node.opType) ? sup?.weights?.find((x) => x.index === u.index) : undefined;
    if (!w) return undefined;
    const a = weightAxis(w, { transB: u.node.getInt('transB', 0), rank: t.rank });
    if (axis !== undefined && axis !== a) return undefined;
    axis = a;
  }
  return axis;
}

/** SQNR (dB), relative mean absolute error and largest error of `t` stored as symmetric int8 with these scales. */
function storedError(values: Float32Array, q: Int8Array, dims: readonly number[], axis: number | null, scales: Float32Array): { sqnrDb: number; l1: number; maxErr: number } {
  const inner = axis === null ? values.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = axis === null ? 1 : dims[axis]!;
  let num = 0;
  let den = 0;
  let absErr = 0;
  let abs = 0;
  let maxErr = 0;
  for (let i = 0; i < values.length; i++) {
    const s = scales[axis === null ? 0 : Math.floor(i / inner) % channels]!;
    const e = values[i]! - q[i]! * s;
    num += e * e;
    den += values[i]! * values[i]!;
    absErr += Math.abs(e);
    abs += Math.abs(values[i]!);
    maxErr = Math.max(maxErr, Math.abs(e));
  }
  return { sqnrDb: num === 0 ? Infinity : 10 * Math.log10(den / num), l1: abs === 0 ? 0 : absErr / abs, maxErr };
}

export interface StoredInputs {
  model: Model;
  /** Nodes that compute in float in the plan. */
  floatNodes: Set<Node>;
  /** Float nodes whose constants must stay float (the user excluded them). */
  userKept: (node: Node) => boolean;
  /** Also store constants that are not weights (position tables, biases). */
  constants: boolean;
  /** Per-channel scales for weights (--no-per-channel: one per tensor, like quantized weights). */
  perChannel: boolean;
  /** Calibrated ranges (tensor name -> range), for constants added into a tensor. */
  ranges: ReadonlyMap<string, TensorRange>;
  /** --requantize: weights whose integers are kept as given (stored with their own scales, or left in float). */
  given?: ReadonlyMap<string, GivenWeight>;
}

/** A given weight stored as it came: symmetric int8 only (Cast -> Mul has no zero point). */
function givenScales(g: GivenWeight): { axis: number | null; scales: WeightScales } | undefined {
  if (g.type !== 'int8' || g.zeroPoints.some((z) => z !== 0)) return undefined;
  return { axis: g.axis, scales: { scales: Float32Array.from(g.scales), zeroPoints: new Int32Array(g.scales.length) } };
}

/** The stored-constant part of the plan. */
export function planStored(a: StoredInputs): StoredConstant[] {
  if ((a.model.opset('') ?? 1) < 7) return []; // Cast with a numeric 'to' and broadcasting Mul
  const out: StoredConstant[] = [];
  for (const g of a.model.graph.allGraphs()) {
    const small = new Map<number, StoredConstant[]>();
    for (const v of g.initializers.values()) {
      const t = v.constant!;
      const pooled = t.size < MIN_STORED_ELEMENTS;
      if (pooled && (t.rank !== 1 || t.size < MIN_POOLED_ELEMENTS)) continue;
      if (t.dataType !== DataType.FLOAT || g.inputs.includes(v) || v.isGraphOutput || v.uses.length === 0) continue;
      if (!v.uses.every((u) => a.floatNodes.has(u.node) && !a.userKept(u.node) && isDataSlot(u.node, u.index))) continue;
      const wAxis = weightAxisOf(v, t);
      const perAxis = wAxis === undefined || !a.perChannel ? null : wAxis;
      if (wAxis === undefined && !a.constants) continue;
      if (pooled && wAxis !== undefined) continue;
      // A given uint8 weight with a zero point has no Cast -> Mul form: stored with scales of its own.
      const given = a.given?.get(v.name);
      const own = given ? givenScales(given) : undefined;
      const values = t.toFloat32();
      const axis = own ? own.axis : perAxis;
      const scales = own ? own.scales : symmetricWeightScales(channelAbsMax(values, t.dims, axis), 'int8', false);
      const scaleType = !own && axis !== null && scales.scales.length >= MIN_FLOAT16_SCALES && toFloat16Up(scales.scales) ? 'float16' : 'float';
      const q = quantizeWeight(t, axis, scales, 'int8').data() as Int8Array;
      const { sqnrDb, l1, maxErr } = storedError(values, q, t.dims, axis, scales.scales);
      if (wAxis === undefined && (sqnrDb < MIN_SQNR_DB || l1 > MAX_L1_ERROR)) {
        const range = additiveRange(v, a.ranges);
        if (range === undefined || maxErr > range * ADDITIVE_FRACTION) continue;
      }
      const uses: InputRef[] = v.uses.map((u) => ({ node: u.node.name, input: u.index }));
      const c: StoredConstant = { tensor: v.name, axis, scales: Array.from(scales.scales), weight: wAxis !== undefined, scaleType, uses, sqnrDb };
      if (!pooled) out.push(c);
      else small.set(t.size, [...(small.get(t.size) ?? []), { ...c, pool: `pool${t.size}` }]);
    }
    for (const [length, members] of small) {
      if (members.length * (3 * length - 12) > POOL_OVERHEAD_BYTES) out.push(...members);
    }
  }
  return out;
}
