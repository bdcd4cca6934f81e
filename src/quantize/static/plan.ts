/**
 * A static quantization plan: data that says what the applier will do, decided before the graph
 * is touched. It names tensors and nodes of the preprocessed model; it can be printed, saved as
 * JSON, diffed and replayed on the same model.
 */
import type { TensorRange } from '../../calibrate/types.js';
import type { QuantParams } from '../scheme.js';
import type { QuantFormat } from './options.js';
import type { WeightEncoding } from '../weight-encoding.js';

/** An input slot of a node: the applier rewires exactly these to read a DequantizeLinear. */
export interface InputRef {
  node: string;
  input: number;
}

/** A float activation (or constant operand of a QLinear op) that gets one QuantizeLinear. */
export interface ActivationQuant {
  tensor: string;
  params: QuantParams;
  /** The real range the parameters were computed from. */
  range: TensorRange;
  /** 'all': every reader goes through a DequantizeLinear (the producer is fused with its Q); else these slots only. */
  readers: 'all' | InputRef[];
  /** A constant operand (bias of an Add, ...): stored quantized, no QuantizeLinear at run time. */
  constant?: boolean;
  /** Tensors of the same scale-sharing chain (Reshape, MaxPool, ...) carry identical parameters. */
  group?: number;
}

/** A weight initializer stored as integers with per-channel (axis) or per-tensor (axis null) scales. */
export interface WeightQuant {
  tensor: string;
  type: 'int8' | 'uint8';
  /** Why this type and scale (weight-encoding.ts): exact on the target, or plain int8 where it is. */
  encoding: WeightEncoding;
  /** int8 weights on a target without VNNI: output channels whose u8 x s8 pairs can saturate. */
  channelsAtRisk?: number;
  /** On a target without VNNI: extra weight noise (dB) of int8 within the pair budget over plain int8. */
  safeLossDb?: number;
  axis: number | null;
  scales: number[];
  zeroPoints: number[];
  uses: InputRef[];
  /** 'float16' for long per-channel scale vectors in QDQ models (see float16-scales.ts). */
  scaleType?: 'float16';
  /** Channels whose scale was raised so that the int32 bias fits (very large biases). */
  raisedChannels?: number[];
}

/** A bias quantized to int32 with scale = input scale x weight scale (per channel), as ORT's kernels require. */
export interface BiasQuant {
  tensor: string;
  use: InputRef;
  axis: number | null;
  scales: number[];
  /**
   * 'int32': stored quantized with a DequantizeLinear. 'float': left as it is; ORT converts it to
   * exactly these int32 values when it loads the model (Conv with a quantized output), which keeps
   * the file smaller (no per-channel bias scale) and suits runtimes that want float biases.
   */
  storage: 'int32' | 'float';
  /** Values clipped to the int32 range (should be 0: weight scales are raised to avoid it). */
  clipped: number;
}

/**
 * A float constant read by float ops (the weight of a node kept in float, a position table, a
 * bias) stored as int8 with scales and decoded by Cast -> Mul. ONNX Runtime folds that pair when
 * it loads the model, so the ops run on float constants exactly as before: the file shrinks and
 * nothing is slower. Only the listed readers change.
 */
export interface StoredConstant {
  tensor: string;
  /** Per-channel axis, or null for one scale. */
  axis: number | null;
  scales: number[];
  /** The weight of a Conv/MatMul/Gemm (stored whatever its error, like a quantized weight). */
  weight: boolean;
  /** 'float16' for long per-channel scale vectors (exact: the int8 values are computed from the float16 scales). */
  scaleType: 'float' | 'float16';
  /**
   * Set for small 1-D constants: the members of a pool (same name, same graph) are decoded
   * together from one int8 [k, length] initializer (see plan-stored.ts).
   */
  pool?: string;
  uses: InputRef[];
  /** Signal-to-quantization-noise ratio of the stored values against the float ones (dB). */
  sqnrDb: number;
}

/** A Relu/Clip removed because the Q after its producer saturates exactly where it clips. */
export interface FoldedActivation {
  node: string;
  op: string;
  into: string;
}

export type NodeAction = 'quantize' | 'share' | 'fold' | 'float';

export interface NodePlan {
  node: string;
  op: string;
  action: NodeAction;
  /** What happens, or (action 'float') why the node stays in float. */
  detail: string;
}

export interface QuantPlan {
  schema: 'slimnet.quant-plan/1';
  format: QuantFormat;
  /** Domain of QuantizeLinear/DequantizeLinear ('' = ONNX; 'com.microsoft' below the opset the types need). */
  qdqDomain: '' | 'com.microsoft';
  activations: ActivationQuant[];
  weights: WeightQuant[];
  biases: BiasQuant[];
  folds: FoldedActivation[];
  /** Float constants stored as int8 (decoded when ORT loads the model). */
  stored: StoredConstant[];
  nodes: NodePlan[];
  /** Model-level changes that are part of the result (opset upgrade, ...). */
  notes: string[];
  warnings: string[];
}

/** A readable dump of the plan (for `--print-plan` and debugging). */
export function formatPlan(plan: QuantPlan): string {
  const lines: string[] = [`plan: ${plan.format}, Q/DQ domain ${plan.qdqDomain || 'ai.onnx'}`];
  for (const n of plan.nodes) lines.push(`  ${n.action.padEnd(8)} ${n.node} (${n.op}): ${n.detail}`);
  lines.push('activations:');
  for (const a of plan.activations) {
    const p = a.params;
    const readers = a.readers === 'all' ? 'all readers' : a.readers.map((r) => `${r.node}[${r.input}]`).join(', ');
    lines.push(`  ${a.tensor}: ${p.type} scale ${p.scale.toPrecision(6)} zp ${p.zeroPoint} range [${a.range.min.toPrecision(5)}, ${a.range.max.toPrecision(5)}]${a.constant ? ' (constant)' : ''} -> ${readers}`);
  }
  lines.push('weights:');
  for (const w of plan.weights) {
    lines.push(`  ${w.tensor}: ${w.encoding} ${w.axis === null ? 'per-tensor' : `per-channel axis ${w.axis} (${w.scales.length})`}${w.raisedChannels?.length ? `, ${w.raisedChannels.length} scales raised for the bias` : ''}${w.channelsAtRisk ? `, ${w.channelsAtRisk} channel(s) can saturate on the target` : ''}`);
  }
  for (const b of plan.biases) lines.push(`  bias ${b.tensor} of ${b.use.node}: int32${b.storage === 'float' ? ' (stored float, ORT converts it)' : ''}${b.clipped ? `, ${b.clipped} values clipped` : ''}`);
  for (const c of plan.stored) lines.push(`  stored ${c.tensor}: int8 ${c.axis === null ? 'per-tensor' : `per-channel axis ${c.axis}`}, ${c.sqnrDb.toFixed(1)} dB, decoded by ${c.pool ? `Cast/Mul/Reshape/Split of ${c.pool}` : 'Cast/Mul'} when ORT loads the model`);
  for (const f of plan.folds) lines.push(`  fold ${f.node} (${f.op}) into ${f.into}`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
