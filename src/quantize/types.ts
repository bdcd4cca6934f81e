/**
 * Shared result types of every quantization mode (static, dynamic, weight-only, fp16), so the CLI,
 * the report and the wizard treat them alike.
 */
import type { Model } from '../ir/model.js';

export type QuantizeMode = 'static' | 'dynamic' | 'weight-only' | 'fp16';

/** What happened to one node, and why. */
export interface NodeDecision {
  node: string;
  op: string;
  /** e.g. 'int8 per-channel weights, uint8 activations', 'kept float: excluded by --exclude' */
  detail: string;
}

export interface QuantizeSummary {
  mode: QuantizeMode;
  quantized: NodeDecision[];
  /** Every node left in float, with the reason. */
  skipped: NodeDecision[];
  /** Bytes of tensor data (weights and other constants) before; the file adds the graph itself. */
  sizeBeforeBytes: number;
  /** Bytes of tensor data after (the CLI's Size line gives the file sizes). */
  sizeAfterBytes: number;
  /** Warnings the user should read before shipping the model. */
  warnings: string[];
  /** What was done to the model besides quantizing nodes (opset upgrade, ...). */
  notes?: string[];
}

export interface QuantizeResult {
  model: Model;
  summary: QuantizeSummary;
  /** The resolved options that shaped the result (format, types, block size, ...), for reports. */
  settings: Record<string, string | number | boolean>;
  /** fp16: values found beyond the float16 range (name -> largest magnitude); their nodes stayed float32. A recipe keeps them. */
  beyondFp16?: Record<string, number>;
}
