/**
 * Decides which nodes compute in float16 and which stay in float32 (with the reason): the op
 * block list of the op-support table, custom domains, control flow, arithmetic that feeds shapes
 * (fp16 holds integers exactly only up to 2048), constants that overflow or underflow float16, and,
 * when data was run, values seen beyond the float16 range.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { DataType, dataTypeInfo } from '../../ir/data-type.js';
import { opSupport } from '../../ops/op-support.js';
import { excludeMatch } from '../static/options.js';
/** Element types of the model's values (src/ir/elem-types.ts). */
export type ElemTypes = ReadonlyMap<Value, DataType>;

export function isFloatType(t: DataType | undefined): boolean {
  return t === DataType.FLOAT || t === DataType.FLOAT16;
}
import type { ResolvedFp16Options } from './options.js';

export const FP16_MAX = 65504;
/**
 * com.microsoft ops whose float inputs and outputs (type T1: activations, block scales, bias) may
 * all be float16: ONNX Runtime 1.30's CPU kernels run MatMulNBits (accuracy_level 0 and 4) and
 * GatherBlockQuantized with float16, so a weight-only model converts to transformers.js's
 * "q4f16" form (4-bit weights, float16 activations) instead of keeping them in float32.
 */
const FP16_CONTRIB_OPS = new Set(['MatMulNBits', 'GatherBlockQuantized']);
/** Below half the smallest float16 subnormal (2^-24) a value rounds to 0. */
const FP16_UNDERFLOW = 2 ** -25;
/** Constants this small or smaller are epsilons and scalars, where rounding to 0 changes the math. */
const SMALL_CONSTANT = 16;

export interface Fp16Plan {
  convert: Set<Node>;
  keep: Map<Node, string>;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(1) : String(Math.round(x * 1000) / 1000);
}

/** Why a constant cannot be stored in float16, if it cannot. */
function constantProblem(v: Value): string | undefined {
  const t = v.constant;
  if (!t || t.dataType !== DataType.FLOAT) return undefined;
  const d = t.toFloat32();
  let max = 0;
  let tiny = 0;
  for (let i = 0; i < d.length; i++) {
    const a = Math.abs(d[i]!);
    if (a > max) max = a;
    if (a > 0 && a < FP16_UNDERFLOW && tiny === 0) tiny = d[i]!;
  }
  if (max > FP16_MAX && Number.isFinite(max)) return `constant '${v.name}' holds ${fmt(max)}, beyond the float16 range (${FP16_MAX})`;
  if (tiny !== 0 && d.length <= SMALL_CONSTANT) return `constant '${v.name}' (${fmt(tiny)}) would round to 0 in float16`;
  return undefined;
}

/**
 * Values whose every use feeds a shape, size, axis or count (directly, through an integer Cast, or
 * through float arithmetic that only does that): computing them in fp16 would round sizes.
 */
class ShapeFlow {
  private readonly memo = new Map<Value, boolean>();
  constructor(private readonly types: ElemTypes) {}

  isShapeOnly(v: Value): boolean {
    const hit = this.memo.get(v);
    if (hit !== undefined) return hit;
    this.memo.set(v, false); // cycles (none in valid ONNX) resolve to "not shape-only"
    let result = v.uses.length > 0 && !v.isGraphOutput;
    for (const { node, index } of v.uses) {
      if (!result) break;
      result = node.graph === v.graph && this.isShapeSink(node, index);
    }
    this.memo.set(v, result);
    return result;
  }

  private isShapeSink(node: Node, index: number): boolean {
    if (opSupport(node.opType, node.domain)?.shapeInputs?.includes(index)) return true;
    if (node.domain !== '') return false;
    if (node.opType === 'Cast') {
      const to = node.getInt('to');
      return to !== undefined && dataTypeInfo(to).isInteger;
    }
    return this.producesOnlyShapes(node);
  }

  /** A node with float outputs that all only feed shapes. */
  producesOnlyShapes(node: Node): boolean {
    const floats = node.outputs.filter((o) => isFloatType(this.types.get(o)));
    return floats.length > 0 && floats.every((o) => this.isShapeOnly(o));
  }
}

const isQ = (n: Node | null | undefined) => n?.opType === 'QuantizeLinear' && (n.domain === '' || n.domain === 'com.microsoft');
const isDQ = (n: Node | null | undefined) => n?.opType === 'DequantizeLinear' && (n.domain === '' || n.domain === 'com.microsoft');

/** Reads a DequantizeLinear output or feeds a QuantizeLinear: part of a statically quantized group. */
function inQdqGroup(node: Node): boolean {
  if (isQ(node) || isDQ(node)) return false;
  return node.inputs.some((v) => isDQ(v?.producer)) || node.outputs.some((v) => v.uses.some((u) => isQ(u.node)));
}

function touchesFloat(node: Node, types: ElemTypes): boolean {
  return [...node.inputs, ...node.outputs].some((v) => v && types.get(v) === DataType.FLOAT);
}

export function planFp16(model: Model, types: ElemTypes, o: ResolvedFp16Options, beyondRange: ReadonlyMap<string, number>): Fp16Plan {
  const plan: Fp16Plan = { convert: new Set(), keep: new Map() };
  const shapes = new ShapeFlow(types);
  const constantIssues = new Map<Value, string | undefined>();
  const constantIssue = (v: Value) => {
    if (!constantIssues.has(v)) constantIssues.set(v, constantProblem(v));
    return constantIssues.get(v);
  };
  const reasonToKeep = (node: Node): string | undefined => {
    const excluded = o.exclude.find((p) => excludeMatch(p, node));
    if (excluded !== undefined) return `excluded by --exclude ${excluded}`;
    if (o.blockOps.has(node.opType)) return `${node.opType} kept in float32 by option`;
    if (node.domain !== '' && !(node.domain === 'com.microsoft' && FP16_CONTRIB_OPS.has(node.opType))) return `custom-domain op (${node.domain}): no float16 guarantee`;
    if (inQdqGroup(node)) return 'inside a Q/DQ group: ONNX Runtime runs it as an integer kernel, which a float16 Cast would break';
    const sup = opSupport(node.opType, node.domain);
    if (sup?.fp16Keep) return sup.fp16Keep;
    if (node.opType === 'Cast' && node.getInt('to') === DataType.FLOAT) {
      const from = node.input(0) ? types.get(node.input(0)!) : undefined;
      if (from === DataType.FLOAT16 || from === DataType.BFLOAT16) return 'explicit Cast from 16-bit float to float32: the model asks for float32 here';
    }
    if (node.subgraphs().length) return 'control flow: the nodes inside its branches are converted; its own inputs and outputs stay float32';
    if (node.outputs.some((v) => v.name && types.get(v) === undefined)) return 'an output type is unknown';
    if (shapes.producesOnlyShapes(node)) return 'shape arithmetic: its values feed shapes or sizes, which float16 rounds above 2048';
    for (const v of [...node.inputs, ...node.outputs]) {
      if (!v) continue;
      const issue = v.constant ? constantIssue(v) : undefined;
      if (issue) return issue;
      const seen = beyondRange.get(v.name);
      if (seen !== undefined) return `'${v.name}' reaches ${fmt(seen)} on the data, beyond the float16 range (${FP16_MAX})`;
    }
    return undefined;
  };
  for (const graph of model.graph.allGraphs()) {
    for (const node of graph.nodes) {
      if (!touchesFloat(node, types)) continue;
      const reason = reasonToKeep(node);
      if (reason) plan.keep.set(node, reason);
      else plan.convert.add(node);
    }
  }
  return plan;
}
