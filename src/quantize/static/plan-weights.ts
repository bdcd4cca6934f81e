/**
 * Weight and bias part of the plan: per-channel symmetric scales for every constant weight of a
 * quantized Conv/MatMul/Gemm, and int32 biases with scale = input scale x weight scale (exactly the
 * float32 product, or ORT will not fuse the Conv). Weight scales are raised first where a bias
 * would overflow int32, and long scale vectors rounded up to float16 values, so every bias scale is
 * computed from the final weight scales.
 */
import type { Node } from '../../ir/node.js';
import type { OpSupport } from '../../ops/op-support.js';
import { weightAxis } from '../../ops/op-support.js';
import type { QuantParams } from '../scheme.js';
import { biasScales, quantizeBias, raiseScalesForBias, type WeightScales } from '../weights.js';
import { encodeWeightScales, type KernelSums } from '../weight-encoding.js';
import type { ResolvedStaticOptions } from './options.js';
import type { BiasQuant, WeightQuant } from './plan.js';
import { MIN_FLOAT16_SCALES, toFloat16Up } from './float16-scales.js';

interface WeightEntry {
  plan: WeightQuant;
  scales: WeightScales;
  /** Taken as the model gives it (--requantize): its scales are never changed. */
  given?: boolean;
}

/** The per-channel axis to use for a node's weight, or null for per-tensor. */
function axisFor(node: Node, support: OpSupport, rank: number, perChannel: boolean): number | null {
  if (!perChannel) return null;
  const w = support.weights![0]!;
  const axis = weightAxis(w, { transB: node.getInt('transB', 0), rank });
  if (node.opType === 'MatMul' && rank !== 2) return null; // ORT fuses per-column B only for 2-D weights
  if (node.opType === 'Conv' && rank < 3) return null;
  return axis;
}

/**
 * How ORT's int8 kernel for this node sums the weight's products (docs/research/x86-saturation.md):
 * depthwise convolutions widen first; other convolutions pair in (kh, kw, cin) order; 2-D matrix
 * multiplies pair along K. Anything else is bounded whatever the pairing.
 */
function kernelSums(node: Node, dims: readonly number[]): KernelSums {
  if (node.opType === 'Conv') {
    const group = node.getInt('group', 1);
    if (group > 1 && dims[1] === 1 && dims[0] === group) return { order: 'widened' };
    return dims.length >= 3 ? { order: 'conv', axis: 0 } : { order: 'any' };
  }
  if (dims.length !== 2) return { order: 'any' };
  if (node.opType === 'Gemm' && node.getInt('transB', 0)) return { order: 'natural', axis: 0 };
  return { order: 'natural', axis: 1 };
}

export function planWeights(
  nodes: Node[], eligible: Map<Node, OpSupport>, inputParams: (node: Node) => QuantParams, floatBias: (node: Node) => boolean, options: ResolvedStaticOptions,
): { weights: WeightQuant[]; biases: BiasQuant[]; warnings: string[] } {
  const entries = new Map<string, WeightEntry>();
  const byNode = new Map<Node, WeightEntry>();
  // 16-bit activations run in float between Q/DQ on ORT's CPU EP: no integer kernel to keep exact.
  const eightBit = options.activations === 'uint8' || options.activations === 'int8';
  const encoding = { policy: eightBit ? options.weights : options.weights === 'auto' ? 'int8' as const : options.weights, reduceRange: options.reduceRange, u8s8Exact: options.u8s8Exact || !eightBit };
  for (const node of nodes) {
    const sup = eligible.get(node)!;
    const v = node.input(sup.weights![0]!.index);
    const t = v?.constant;
    if (!v || !t) continue; // MatMul of two activations: both inputs are activations
    const axis = axisFor(node, sup, t.rank, options.perChannel);
    const key = `${v.name}\u0000${axis}`;
    // --requantize: the model's own integers, scales and zero points, as given.
    const given = options.givenWeights?.get(v.name);
    if (given) {
      let e = entries.get(v.name);
      if (!e) {
        // uint8 weights with a zero point run ORT's slow U8U8 kernels; where u8 x s8 sums are exact,
        // q - 128 with zero point zp - 128 is the same grid (same q - zp, same scale) in int8.
        const shift = given.type === 'uint8' && eightBit && options.u8s8Exact ? 128 : 0;
        const scales = { scales: Float32Array.from(given.scales), zeroPoints: Int32Array.from(given.zeroPoints, (z) => z - shift) };
        const type = shift ? 'int8' : given.type;
        e = { plan: { tensor: v.name, type, encoding: 'given', axis: given.axis, scales: [], zeroPoints: [], uses: [] }, scales, given: true };
        entries.set(v.name, e);
      }
      e.plan.uses.push({ node: node.name, input: sup.weights![0]!.index });
      byNode.set(node, e);
      continue;
    }
    let e = entries.get(key);
    if (!e) {
      const policy = (eightBit && options.weightOverrides?.get(v.name)) || encoding.policy;
      const enc = encodeWeightScales(t.toFloat32(), t.dims, axis, { ...encoding, policy }, kernelSums(node, t.dims));
      const plan: WeightQuant = { tensor: v.name, type: enc.type, encoding: enc.encoding, axis, scales: [], zeroPoints: [], uses: [] };
      if (enc.channelsAtRisk) plan.channelsAtRisk = enc.channelsAtRisk;
      if (enc.safeLossDb !== undefined) plan.safeLossDb = enc.safeLossDb;
      e = { plan, scales: enc.scales };
      entries.set(key, e);
    }
    e.plan.uses.push({ node: node.name, input: sup.weights![0]!.index });
    byNode.set(node, e);
  }

  // Raise weight scales for oversized biases before any bias scale is computed.
  const warnings: string[] = [];
  const withBias = nodes.filter((n) => eligible.get(n)!.bias !== undefined && n.input(eligible.get(n)!.bias!) && byNode.has(n));
  for (const node of withBias) {
    const e = byNode.get(node)!;
    if (e.given) continue; // raising a given scale would round its integers again (quantizeBias reports any clipping)
    const bias = node.input(eligible.get(node)!.bias!)!.constant!.toFloat32();
    const raised = raiseScalesForBias(e.scales, bias, inputParams(node).scale);
    if (raised.length) e.plan.raisedChannels = [...new Set([...(e.plan.raisedChannels ?? []), ...raised])].sort((a, b) => a - b);
  }
  for (const e of entries.values()) {
    if (e.plan.raisedChannels?.length) {
      warnings.push(`${e.plan.tensor}: ${e.plan.raisedChannels.length} weight scale(s) raised so the int32 bias fits (the bias dwarfs input scale x weight scale; the input range may be far too wide)`);
    }
  }

  // QDQ only: the QOperator form reads scales as plain initializers.
  for (const e of entries.values()) {
    if (options.format === 'qdq' && !e.given && e.plan.axis !== null && e.scales.scales.length >= MIN_FLOAT16_SCALES && toFloat16Up(e.scales.scales)) e.plan.scaleType = 'float16';
  }

  const biases: BiasQuant[] = [];
  for (const node of withBias) {
    const e = byNode.get(node)!;
    const index = eligible.get(node)!.bias!;
    const scales = biasScales(inputParams(node).scale, e.scales.scales);
    const { clipped } = quantizeBias(node.input(index)!.constant!, scales);
    if (clipped) warnings.push(`${node.name}: ${clipped} bias value(s) clipped to the int32 range`);
    biases.push({
      tensor: node.input(index)!.name, use: { node: node.name, input: index }, axis: e.plan.axis === null ? null : 0, scales: Array.from(scales), clipped,
      storage: floatBias(node) ? 'float' : 'int32',
    });
  }
  for (const e of entries.values()) {
    e.plan.scales = Array.from(e.scales.scales);
    e.plan.zeroPoints = Array.from(e.scales.zeroPoints);
  }
  return { weights: [...entries.values()].map((e) => e.plan), biases, warnings };
}
