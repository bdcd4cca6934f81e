/**
 * --requantize: a model made by ONNX Runtime's dynamic quantizer (DynamicQuantizeLinear +
 * ConvInteger / MatMulInteger, then Cast and a Mul by x_scale * w_scale; Conv biases as Reshape +
 * Add) becomes the float model it computes, Conv / MatMul over weights (q - zp) * scale, so that
 * static quantization can calibrate its activations. The weights' integers, scales and zero points
 * are kept ("given") and the plan reuses them exactly: dequantized in float32 and divided by the
 * same scale, every value rounds back to its integer (|q - zp| <= 255, float32 error ~1e-5).
 */
import type { Model } from '../../ir/model.js';
import type { Graph } from '../../ir/graph.js';
import { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { Tensor } from '../../ir/tensor.js';
import { DataType } from '../../ir/data-type.js';
import { cloneModel } from '../../ir/clone.js';
import { firstQuantizedNode, runPasses, CLEANUP_PASSES, constantsToInitializers } from '../../ir/passes/index.js';
import { UnsupportedOpError } from '../../errors.js';

/** A weight whose integers are taken as the model gives them. */
export interface GivenWeight {
  type: 'int8' | 'uint8';
  /** null: one scale; else the channel axis of the scales (0 for Conv, 1 for MatMul). */
  axis: number | null;
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** The integers, as stored in the given model. */
  q: Tensor;
}

export interface Dequantized {
  model: Model;
  /** Float weight initializer name -> its integers, scales and zero points. */
  given: Map<string, GivenWeight>;
  note: string;
}

/** Ops that --requantize turns back into float ops. */
export const DYNAMIC_OPS = new Set(['DynamicQuantizeLinear', 'ConvInteger', 'MatMulInteger']);

function only<T>(xs: readonly T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

function intsOf(t: Tensor): Int32Array {
  return Int32Array.from(t.data() as ArrayLike<number>);
}

/** The other input of a two-input node. */
function other(node: Node, v: Value): Value | null {
  return node.input(0) === v ? node.input(1) : node.input(1) === v ? node.input(0) : null;
}

interface Chain {
  op: Node;
  x: Value;
  weight: Value;
  weightZp: Value | null;
  weightScale: Value;
  /** The Mul whose output is the float result. */
  last: Node;
  /** Conv only: the bias Add after the chain, and the bias as a 1-D tensor. */
  biasAdd?: Node;
  bias?: Tensor;
}

/** The ORT layout around one ConvInteger / MatMulInteger, or a reason it is not that. */
function matchChain(op: Node): Chain | string {
  const a = op.input(0);
  const dql = a?.producer;
  if (!a || !dql || dql.opType !== 'DynamicQuantizeLinear' || a !== dql.output(0)) return 'its input does not come from a DynamicQuantizeLinear';
  if (op.input(2) && op.input(2) !== dql.output(2)) return "its input zero point is not the DynamicQuantizeLinear's";
  const weight = op.input(1);
  const wt = weight?.constant;
  if (!weight || !wt || (wt.dataType !== DataType.INT8 && wt.dataType !== DataType.UINT8)) return 'its weight is not a constant int8/uint8 tensor';
  const weightZp = op.input(3) ?? null;
  if (weightZp && !weightZp.constant) return 'its weight zero point is not a constant';
  const cast = only(op.output(0).consumers());
  if (!cast || cast.opType !== 'Cast' || cast.getInt('to') !== DataType.FLOAT) return 'its result is not Cast to float';
  const last = only(cast.output(0).consumers());
  if (!last || last.opType !== 'Mul') return 'the Cast is not followed by one Mul';
  const s = other(last, cast.output(0));
  const scalesMul = s?.producer;
  if (!s || !scalesMul || scalesMul.opType !== 'Mul') return 'the scale is not x_scale * w_scale';
  const weightScale = other(scalesMul, dql.output(1));
  if (!weightScale?.constant) return 'the scale is not x_scale * a constant weight scale';
  const chain: Chain = { op, x: dql.input(0)!, weight, weightZp, weightScale, last };
  // Conv bias, as ORT adds it: Add(scaled, Reshape(B, [1, -1, 1, 1])).
  const add = op.opType === 'ConvInteger' ? only(last.output(0).consumers()) : undefined;
  if (add && add.opType === 'Add' && !last.output(0).isGraphOutput) {
    const b = other(add, last.output(0));
    const reshape = b?.producer;
    const bias = reshape?.opType === 'Reshape' ? reshape.input(0)?.constant : b?.constant;
    if (bias && bias.size === wt.dims[0] && (bias.dataType === DataType.FLOAT)) {
      chain.biasAdd = add;
      // A tensor of its own: initializers name their tensor, and the given model keeps its bias.
      chain.bias = Tensor.float([bias.size], bias.toFloat32());
    }
  }
  return chain;
}

/** (q - zp) * scale in float32, per tensor or along `axis`. */
function dequantize(given: GivenWeight): Tensor {
  const q = intsOf(given.q);
  const dims = given.q.dims;
  const channels = given.axis === null ? 1 : dims[given.axis]!;
  const inner = given.axis === null ? q.length : dims.slice(given.axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = given.axis === null ? 0 : Math.floor(i / inner) % channels;
    out[i] = Math.fround((q[i]! - given.zeroPoints[c]!) * given.scales[c]!);
  }
  return Tensor.float([...dims], out);
}

function givenWeight(chain: Chain): GivenWeight | string {
  const t = chain.weight.constant!;
  const scale = chain.weightScale.constant!;
  const zp = chain.weightZp?.constant;
  const conv = chain.op.opType === 'ConvInteger';
  if (!conv && t.rank !== 2) return 'MatMulInteger weights of rank other than 2 are not supported';
  const axis = scale.size === 1 ? null : conv ? 0 : 1;
  const channels = axis === null ? 1 : t.dims[axis]!;
  if (scale.size !== channels || (zp && zp.size !== 1 && zp.size !== channels)) return `its weight scale (${scale.size} values) does not match ${channels} channel(s)`;
  const zps = zp ? intsOf(zp) : new Int32Array(1);
  return {
    type: t.dataType === DataType.INT8 ? 'int8' : 'uint8',
    axis,
    scales: Float32Array.from(scale.toFloat32()),
    zeroPoints: zps.length === channels ? zps : new Int32Array(channels).fill(zps[0]!),
    q: t,
  };
}

/** A name without ORT's suffix ('conv1.weight_quantized' -> 'conv1.weight') when it is free. */
function freeName(m: Model, name: string, suffix: string): string {
  return m.names.fresh(name.endsWith(suffix) ? name.slice(0, -suffix.length) : name);
}

function rewrite(m: Model, g: Graph, chain: Chain, floatWeights: Map<Value, Value>, given: Map<string, GivenWeight>): void {
  let w = floatWeights.get(chain.weight);
  if (!w) {
    const gw = givenWeight(chain);
    if (typeof gw === 'string') throw new UnsupportedOpError(`${m.label()}: --requantize cannot read ${chain.op.label()}: ${gw}`);
    w = g.addInitializer(freeName(m, chain.weight.name, '_quantized'), dequantize(gw));
    floatWeights.set(chain.weight, w);
    given.set(w.name, gw);
  }
  const conv = chain.op.opType === 'ConvInteger';
  const end = chain.biasAdd ?? chain.last;
  const inputs: Value[] = [chain.x, w];
  if (chain.bias) inputs.push(g.addInitializer(m.names.fresh(`${w.name.replace(/weight$/, '')}bias`), chain.bias));
  const out = end.output(0);
  const name = chain.op.name.endsWith('_quant') ? chain.op.name.slice(0, -'_quant'.length) : chain.op.name;
  const float = new Node(conv ? 'Conv' : 'MatMul', inputs, [m.names.fresh(`${out.name}_requantized`)], {
    name: m.names.fresh(name),
    attributes: conv ? [...chain.op.attributes.values()] : [],
  });
  g.insertAfter(end, float);
  out.replaceAllUsesWith(float.output(0));
  g.remove(end, { force: true });
  const keep = out.name;
  out.name = m.names.fresh(`${keep}_dynamic`);
  float.output(0).name = keep;
  float.output(0).type = out.type;
}

/** The float model a dynamically quantized one computes, and the integers of its weights. */
export function dequantizeDynamic(model: Model): Dequantized {
  const m = cloneModel(model);
  runPasses(m, [constantsToInitializers]);
  const given = new Map<string, GivenWeight>();
  const counts = new Map<string, number>();
  for (const g of m.graph.allGraphs()) {
    const floatWeights = new Map<Value, Value>();
    for (const op of [...g.nodes]) {
      if (op.domain !== '' || (op.opType !== 'ConvInteger' && op.opType !== 'MatMulInteger')) continue;
      const chain = matchChain(op);
      if (typeof chain === 'string') throw new UnsupportedOpError(`${model.label()}: --requantize reads ONNX Runtime's dynamic layout (DynamicQuantizeLinear -> ${op.opType} -> Cast -> Mul by x_scale * w_scale); ${op.label()} differs: ${chain}`);
      rewrite(m, g, chain, floatWeights, given);
      counts.set(op.opType, (counts.get(op.opType) ?? 0) + 1);
    }
  }
  runPasses(m, CLEANUP_PASSES);
  const left = firstQuantizedNode(m);
  if (left) throw new UnsupportedOpError(`${model.label()}: --requantize turns ONNX Runtime's dynamic ops (DynamicQuantizeLinear, ConvInteger, MatMulInteger) back into float; ${left} is quantized another way: quantize the float model it came from`);
  const parts = [...counts].map(([op, n]) => `${n} x ${op}`).join(', ');
  return { model: m, given, note: `requantize: ${parts} turned back into float ops over their ${given.size} int8 weight(s), whose integers, scales and zero points are kept as given (not rounded again); activations calibrated` };
}

/**
 * The given weights that pre-processing left as they were (bit for bit). A weight it changed
 * (a BatchNorm folded into it) has other values than its integers encode: it is rounded again.
 */
export function givenAfterPreprocess(pre: Model, given: ReadonlyMap<string, GivenWeight>, renamed: ReadonlyMap<string, string>): { kept: Map<string, GivenWeight>; changed: string[]; rescaled: string[] } {
  const kept = new Map<string, GivenWeight>();
  const changed: string[] = [];
  const rescaled: string[] = [];
  for (const [original, gw] of given) {
    const name = renamed.get(original) ?? original;
    const t = pre.graph.findValue(name)?.constant;
    const want = dequantize(gw).toFloat32();
    const have = t?.dataType === DataType.FLOAT ? t.toFloat32() : undefined;
    if (have && have.length === want.length && have.every((x, i) => Object.is(x, want[i]))) kept.set(name, gw);
    else {
      const perChannel = have && have.length === want.length ? rescaledPerChannel(gw, have) : undefined;
      if (perChannel) {
        kept.set(name, perChannel);
        rescaled.push(name);
      } else changed.push(name);
    }
  }
  return { kept, changed, rescaled };
}

/**
 * A Conv weight that a BatchNormalization after it was folded into (ORT's Conv+BN fusion: each
 * output channel times gamma / sigma) still holds the given integers, on per-channel scales
 * `scale * factor`. Found when every value of each channel is its integer times one positive
 * factor (a negative one would need the integers negated: then it is rounded again).
 */
function rescaledPerChannel(gw: GivenWeight, have: Float32Array): GivenWeight | undefined {
  const dims = gw.q.dims;
  if (dims.length < 3 || (gw.axis !== null && gw.axis !== 0)) return undefined;
  const q = intsOf(gw.q);
  const channels = dims[0]!;
  const inner = q.length / channels;
  const scales = new Float32Array(channels);
  const zeroPoints = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = gw.scales[gw.axis === null ? 0 : c]!;
    const zp = gw.zeroPoints[gw.axis === null ? 0 : c]!;
    zeroPoints[c] = zp;
    // The channel's scale from its largest integer; then every value must round back to its own.
    let j = -1;
    for (let i = c * inner; i < (c + 1) * inner; i++) if (j < 0 || Math.abs(q[i]! - zp) > Math.abs(q[j]! - zp)) j = i;
    const k = q[j]! - zp;
    if (k === 0) {
      for (let i = c * inner; i < (c + 1) * inner; i++) if (have[i] !== 0) return undefined;
      scales[c] = s;
      continue;
    }
    const scale = Math.fround(have[j]! / k);
    if (!(scale > 0)) return undefined;
    for (let i = c * inner; i < (c + 1) * inner; i++) if (Math.abs(have[i]! / scale - (q[i]! - zp)) > 1e-3) return undefined;
    scales[c] = scale;
  }
  return { ...gw, axis: 0, scales, zeroPoints };
}
