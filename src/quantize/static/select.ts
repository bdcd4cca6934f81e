/**
 * Which nodes static quantization may touch, and for every other node the reason it stays float.
 * Pure structure: no ranges, no parameters (those come in the planner).
 */
import { DataType, dataTypeName } from '../../ir/data-type.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { activationInputIndices, opSupport, type OpSupport } from '../../ops/op-support.js';
import { excludeMatch, type ResolvedStaticOptions } from './options.js';

export interface SelectContext {
  types: Map<Value, DataType>;
  options: ResolvedStaticOptions;
  /** Default-domain opset of the model. */
  opset: number;
}

export type Eligibility = { ok: true; support: OpSupport } | { ok: false; reason: string };

const is16 = (o: ResolvedStaticOptions) => o.activations === 'uint16' || o.activations === 'int16';

function typeName(t: DataType | undefined): string {
  return t === undefined ? 'of unknown type' : dataTypeName(t);
}

/** Clip bounds: inputs from opset 11, attributes before. Undefined when not constant. */
export function clipBounds(node: Node, opset: number): { min: number; max: number } | undefined {
  if (opset < 11) return { min: node.getFloat('min', -3.4028234663852886e38), max: node.getFloat('max', 3.4028234663852886e38) };
  const read = (i: number, def: number): number | undefined => {
    const v = node.input(i);
    if (!v) return def;
    const c = v.constant;
    return c && c.size === 1 ? c.toFloat32()[0]! : undefined;
  };
  const min = read(1, -Infinity);
  const max = read(2, Infinity);
  return min === undefined || max === undefined ? undefined : { min, max };
}

function weightedChecks(node: Node, ctx: SelectContext): string | undefined {
  const w = node.input(1);
  const float = (v: Value | null) => v !== null && ctx.types.get(v) === DataType.FLOAT;
  if (node.opType === 'Conv' || node.opType === 'Gemm') {
    if (!w?.constant) return 'its weight is computed at run time (static int8 needs constant weights)';
    if (!float(w)) return `its weight is ${typeName(w ? ctx.types.get(w) : undefined)}, not float32`;
  }
  if (node.opType === 'Conv' && (w?.constant?.rank ?? 0) < 3) return 'weight rank below 3';
  const b = node.input(2);
  if (b && (node.opType === 'Conv' || node.opType === 'Gemm')) {
    const c = b.constant;
    if (!c) return 'its bias is computed at run time (ORT fuses only int32 constant biases)';
    if (node.opType === 'Gemm') {
      if (node.getFloat('beta', 1) !== 1) return `beta ${node.getFloat('beta', 1)} (ORT's QGemm needs beta 1 with a bias)`;
      const n = w!.constant!.dims[node.getInt('transB', 0) ? 0 : 1];
      if (!(c.size === n && (c.rank === 1 || (c.rank === 2 && c.dims[0] === 1)))) return `bias of shape [${c.dims.join(',')}] is not one value per output column`;
    }
  }
  if (node.opType === 'MatMul') {
    const a = node.input(0);
    if (a?.constant && w?.constant) return 'both inputs are constants (constant folding will remove it)';
  }
  return undefined;
}

/** Pad runs on 8-bit data when its pads and value are constants (the value becomes a quantized constant). */
function padIsExact(node: Node, opset: number): boolean {
  if (opset < 11) return false;
  const value = node.input(2);
  return (!value || value.constant !== undefined) && (node.input(1)?.constant !== undefined);
}

/** Whether static int8 may quantize this node, or why not. */
export function eligibility(node: Node, ctx: SelectContext): Eligibility {
  const o = ctx.options;
  const support = opSupport(node.opType, node.domain);
  const floats = [...node.inputs, ...node.outputs].some((v) => v && ctx.types.get(v) === DataType.FLOAT);
  if (!support) {
    if (node.opType === 'If') return { ok: false, reason: 'control flow (the nodes of its branches are quantized one by one)' };
    if (node.subgraphs().length) return { ok: false, reason: 'control flow: Loop/Scan bodies stay in float' };
    if (!floats) return { ok: false, reason: 'no float tensors (shape or index computation)' };
    return { ok: false, reason: `ONNX Runtime has no int8 kernel for ${node.domain ? `${node.domain}.` : ''}${node.opType} on CPU` };
  }
  if (support.role === 'none') return { ok: false, reason: support.floatReason ?? `no int8 kernel for ${node.opType}` };
  if (support.role === 'weighted' && !support.ort) return { ok: false, reason: support.floatReason ?? `no int8 kernel for ${node.opType}` };
  const excluded = o.exclude.find((p) => excludeMatch(p, node));
  if (excluded !== undefined) return { ok: false, reason: `excluded by --exclude ${excluded}` };
  if (o.opTypes && !o.opTypes.includes(node.opType) && support.role !== 'scale-sharing' && support.role !== 'activation') {
    return { ok: false, reason: 'not in --op-types' };
  }
  if (o.placement === 'storage') return { ok: false, reason: "placement 'storage': computes in float" };
  if (o.placement === 'compute' || o.placement === 'weights') {
    if (support.role === 'qlinear') return { ok: false, reason: `placement '${o.placement}': int8 elementwise kernels left out (measured slower here)` };
    if (o.placement === 'weights' && support.role === 'weighted' && !support.weights!.some((w) => node.input(w.index)?.constant)) {
      return { ok: false, reason: "placement 'weights': activation x activation products left in float (measured slower here)" };
    }
  }
  const acts = activationInputIndices(support, node.inputs.length).map((i) => node.input(i)).filter((v): v is Value => v !== null);
  for (const v of [...acts, node.outputs[0]!]) {
    const t = ctx.types.get(v);
    if (t !== DataType.FLOAT) return { ok: false, reason: `'${v.name}' is ${typeName(t)} (static int8 quantizes float32 activations)` };
  }
  const ort = support.ort;
  if (ort?.minOpset && ctx.opset < ort.minOpset && !is16(o)) {
    return { ok: false, reason: `${node.opType} below opset ${ort.minOpset} has no 8-bit kernel in ONNX Runtime` };
  }
  if (node.opType === 'Resize' && node.getString('mode', 'nearest') !== 'nearest') return { ok: false, reason: `Resize mode '${node.getString('mode')}' interpolates: kept float (only nearest keeps the input's scale exactly)` };
  if (node.opType === 'Pad' && !padIsExact(node, ctx.opset)) return { ok: false, reason: 'Pad with a computed pad value (or attribute form before opset 11) stays float' };
  if (node.opType === 'Gather' && node.input(0)?.constant) return { ok: false, reason: 'gathers from a constant table (an embedding: use --mode weight-only for it)' };
  if (support.role === 'weighted') {
    const why = weightedChecks(node, ctx);
    if (why) return { ok: false, reason: why };
  }
  return { ok: true, support };
}
