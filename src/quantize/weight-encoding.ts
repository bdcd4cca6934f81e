/**
 * How the weights of integer matrix multiplies and convolutions are stored, so that the target
 * computes them exactly. On targets whose u8 x s8 sums are exact (VNNI, AMX, ARM64, wasm) that is
 * plain symmetric int8. On x86 without VNNI two stores are exact (src/target/pair-budget.ts):
 * - 'uint8': the same int8 values + 128 (zero point 128), run by ORT's U8U8 kernels, which widen
 *   to 16 bits before multiplying: full 8-bit precision, but no ConvSym path and slower GEMMs;
 * - 'int8-safe': int8 with scales wide enough that no two weights of a channel can overflow an
 *   int16 pair: U8S8 kernels at full speed, at the cost of coarser weights in channels whose two
 *   largest same-sign weights are both large (up to 1 bit, as 7-bit weights).
 * 'auto' picks per weight by measuring the error: int8-safe when it adds at most SAFE_LOSS_DB of
 * weight quantization noise over plain int8, else uint8 (on the trained fixtures the pair budget
 * costs 1.2-3.5 dB per weight, so uint8 is the usual answer; the placement search times int8-safe
 * as an alternative when it can measure the target). Kernels that widen before multiplying
 * (depthwise Conv) never saturate and keep plain int8.
 */
import { channelPairMax, type PairOrder } from '../target/pair-budget.js';
import { channelAbsMax, symmetricWeightScales, type WeightScales } from './weights.js';
import { splitChannels } from '../ir/channels.js';
import { quantizeValue } from './scheme.js';

export type WeightPolicy = 'auto' | 'int8' | 'uint8' | 'int8-safe';
export const WEIGHT_POLICIES: readonly WeightPolicy[] = ['auto', 'int8', 'uint8', 'int8-safe'];

/**
 * What a weight ended up as. 'int8-7bit' is --reduce-range (exact on every target, 1 bit coarser
 * everywhere); 'given' is --requantize: the integers the model came with, not rounded again.
 */
export type WeightEncoding = 'int8' | 'uint8' | 'int8-safe' | 'int8-7bit' | 'given';

/** Extra weight noise (dB) that 'auto' accepts to keep the fast U8S8 kernels on a target without VNNI. */
export const SAFE_LOSS_DB = 1;

/**
 * How the target's kernel for this weight sums products: pairs in a known order within each of its
 * output channels (pair-budget.ts), or 'widened' (depthwise Conv: operands widened to 16 or 32 bits
 * first, never saturates). `axis` and `dims` view the values as the kernel's output channels when
 * that differs from the scales' layout (per-tensor scales, LSTM scales per direction): consecutive
 * kernel channels then share a scale.
 */
export interface KernelSums {
  order: PairOrder | 'widened';
  axis?: number | null;
  dims?: readonly number[];
}

/**
 * Pair maxima already computed, per weight array: on a saturating target the placement search
 * asks again for every candidate (ResNet-50: about 1 s each). Weights are never changed in place.
 */
const pairMaxima = new WeakMap<Float32Array, Map<string, Float64Array>>();

/** Pair maxima per scale channel: the kernel's channels, grouped consecutively onto the scales. */
function pairMaxPerScale(values: Float32Array, dims: readonly number[], axis: number | null, sums: KernelSums): Float64Array {
  const key = JSON.stringify([dims, axis, sums.order, sums.axis, sums.dims]);
  let known = pairMaxima.get(values);
  if (!known) pairMaxima.set(values, (known = new Map()));
  let out = known.get(key);
  if (!out) known.set(key, (out = computePairMaxPerScale(values, dims, axis, sums)));
  return out;
}

function computePairMaxPerScale(values: Float32Array, dims: readonly number[], axis: number | null, sums: KernelSums): Float64Array {
  const order = sums.order === 'widened' ? 'any' : sums.order;
  const kernel = channelPairMax(values, sums.dims ?? dims, sums.axis === undefined ? axis : sums.axis, order);
  const channels = axis === null ? 1 : dims[axis]!;
  if (kernel.length === channels) return kernel;
  const group = kernel.length / channels;
  const out = new Float64Array(channels);
  for (let k = 0; k < kernel.length; k++) out[Math.floor(k / group)] = Math.max(out[Math.floor(k / group)]!, kernel[k]!);
  return out;
}

export interface EncodingContext {
  policy: WeightPolicy;
  /** --reduce-range: 7-bit weights everywhere (the user's explicit choice wins). */
  reduceRange: boolean;
  /** The target sums u8 x s8 products exactly. */
  u8s8Exact: boolean;
}

export interface EncodedScales {
  type: 'int8' | 'uint8';
  encoding: WeightEncoding;
  scales: WeightScales;
  /** For int8 weights on a saturating target: output channels that can saturate (0 when exact). */
  channelsAtRisk: number;
  /** 'auto' on a saturating target: extra noise of int8-safe over int8 (dB), which decided. */
  safeLossDb?: number;
}

const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/** Scales within the pair budget: pairMax / 127, so the rounded pair sums at most 128. */
function pairSafeScales(pairMax: Float64Array): WeightScales {
  const scales = new Float32Array(pairMax.length);
  for (let c = 0; c < pairMax.length; c++) {
    // Rounding the float32 scale down could push a pair sum a hair over 127 before rounding: add 1 ulp.
    let s = Math.fround(pairMax[c]! / 127);
    if (s * 127 < pairMax[c]!) s = Math.fround(s * (1 + 2 ** -23));
    scales[c] = s >= FLOAT32_MIN_NORMAL ? s : 1;
  }
  return { scales, zeroPoints: new Int32Array(pairMax.length) };
}

/** Sum of squared errors of symmetric int8 quantization with these scales. */
function quantizationNoise(values: Float32Array, dims: readonly number[], axis: number | null, scales: Float32Array): number {
  const { outer, channels, inner } = splitChannels(dims, axis);
  let noise = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = scales[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = values[base + i]!;
        const e = v - quantizeValue(v, s, 0, -128, 127) * s;
        noise += e * e;
      }
    }
  }
  return noise;
}

function countOver(pairMax: Float64Array, scales: Float32Array): number {
  let n = 0;
  // In integer units the worst pair is pairMax / scale (rounding can add one).
  for (let c = 0; c < pairMax.length; c++) if (Math.round(pairMax[c]! / scales[c]!) > 128) n++;
  return n;
}

/**
 * Scales, storage type and encoding of one weight (row-major `values` of shape `dims`, channels on
 * `axis`) whose kernel sums as `sums` says.
 */
export function encodeWeightScales(values: Float32Array, dims: readonly number[], axis: number | null, ctx: EncodingContext, sums: KernelSums): EncodedScales {
  const absMax = channelAbsMax(values, dims, axis);
  if (ctx.reduceRange) return { type: 'int8', encoding: 'int8-7bit', scales: symmetricWeightScales(absMax, 'int8', true), channelsAtRisk: 0 };
  const full = symmetricWeightScales(absMax, 'int8', false);
  if (ctx.policy === 'uint8') return { type: 'uint8', encoding: 'uint8', scales: symmetricWeightScales(absMax, 'uint8', false), channelsAtRisk: 0 };
  if (sums.order === 'widened' && ctx.policy !== 'int8-safe') return { type: 'int8', encoding: 'int8', scales: full, channelsAtRisk: 0 };
  // The pair sums are what saturates, so where the target sums exactly they are not needed: on
  // ResNet-50 they cost a second per placement candidate.
  if (ctx.policy === 'int8' || (ctx.policy === 'auto' && ctx.u8s8Exact)) {
    return { type: 'int8', encoding: 'int8', scales: full, channelsAtRisk: ctx.u8s8Exact ? 0 : countOver(pairMaxPerScale(values, dims, axis, sums), full.scales) };
  }
  const safe = pairSafeScales(pairMaxPerScale(values, dims, axis, sums));
  if (ctx.policy === 'int8-safe') return { type: 'int8', encoding: 'int8-safe', scales: safe, channelsAtRisk: 0 };
  // auto on a saturating target: measure what the safe range costs this weight.
  const nFull = quantizationNoise(values, dims, axis, full.scales);
  const nSafe = quantizationNoise(values, dims, axis, safe.scales);
  const safeLossDb = nFull > 0 ? 10 * Math.log10(Math.max(nSafe, nFull) / nFull) : 0;
  if (safeLossDb <= SAFE_LOSS_DB) return { type: 'int8', encoding: 'int8-safe', scales: safe, channelsAtRisk: 0, safeLossDb };
  return { type: 'uint8', encoding: 'uint8', scales: symmetricWeightScales(absMax, 'uint8', false), channelsAtRisk: 0, safeLossDb };
}

/** 'int8 per-channel weights', 'uint8 per-channel weights (U8U8: exact without VNNI)', ... */
export function weightWords(w: { perChannel: boolean; encoding: WeightEncoding; channelsAtRisk: number }, channel = 'per-channel'): string {
  const layout = w.perChannel ? channel : 'per-tensor';
  const risk = w.channelsAtRisk ? ` (${w.channelsAtRisk} channel(s) can saturate on this target)` : '';
  switch (w.encoding) {
    case 'int8': return `int8 ${layout} weights${risk}`;
    case 'uint8': return `uint8 ${layout} weights (U8U8: exact without VNNI)`;
    case 'int8-safe': return `int8 ${layout} weights within the int16 pair budget (exact without VNNI)`;
    case 'int8-7bit': return `int8 7-bit ${layout} weights`;
    case 'given': return `${layout} weights as given (integers, scales and zero points kept)`;
  }
}
