/**
 * Collects what a quantization mode did to each node, and why it left the others alone, into the
 * shared QuantizeSummary. Every node of the result ends up in exactly one list.
 */
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { storedTensorBytes } from '../onnx/tensors.js';
import type { NodeDecision, QuantizeMode, QuantizeSummary } from './types.js';
import { UnsupportedOpError } from '../errors.js';


/** How messages name a node: its name, or its first output when unnamed. */
export function nodeLabel(node: Node): string {
  return node.name || node.outputs[0]?.name || node.opType;
}

function opName(node: Node): string {
  return node.domain ? `${node.domain}.${node.opType}` : node.opType;
}

export class DecisionLog {
  private readonly done = new Map<Node, NodeDecision>();
  private readonly kept = new Map<Node, NodeDecision>();
  readonly warnings: string[] = [];
  readonly notes: string[] = [];

  constructor(readonly mode: QuantizeMode) {}

  /** Records a node that was rewritten; `node` is the node as it is in the result. */
  quantized(node: Node, detail: string): void {
    this.kept.delete(node);
    this.done.set(node, { node: nodeLabel(node), op: opName(node), detail });
  }

  /** Records a node left in float, with the reason (the first reason given wins). */
  skipped(node: Node, reason: string): void {
    if (this.done.has(node) || this.kept.has(node)) return;
    this.kept.set(node, { node: nodeLabel(node), op: opName(node), detail: reason });
  }

  /** Something done besides rewriting nodes, or a default the user should know about. */
  note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message);
  }

  isDecided(node: Node): boolean {
    return this.done.has(node) || this.kept.has(node);
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /**
   * The summary of `result`: nodes with no recorded decision get `defaultReason(node)`; decisions
   * about nodes that are no longer in the model (folded away) are dropped.
   */
  summary(before: Model, result: Model, defaultReason: (node: Node) => string): QuantizeSummary {
    const quantized: NodeDecision[] = [];
    const skipped: NodeDecision[] = [];
    for (const g of result.graph.allGraphs()) {
      for (const n of g.nodes) {
        const d = this.done.get(n);
        if (d) quantized.push(d);
        else skipped.push(this.kept.get(n) ?? { node: nodeLabel(n), op: opName(n), detail: defaultReason(n) });
      }
    }
    return {
      mode: this.mode,
      quantized,
      skipped,
      sizeBeforeBytes: storedTensorBytes(before),
      sizeAfterBytes: storedTensorBytes(result),
      warnings: [...this.warnings],
      ...(this.notes.length ? { notes: [...this.notes] } : {}),
    };
  }
}

/**
 * When a mode rewrote nothing, says why (the most common reasons) instead of letting the caller
 * write a float copy under a quantized name.
 */
export function refuseIfNothingDone(summary: QuantizeSummary, model: Model, mode: string): void {
  if (summary.quantized.length > 0) return;
  const reasons = new Map<string, number>();
  for (const d of summary.skipped) reasons.set(d.detail, (reasons.get(d.detail) ?? 0) + 1);
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, c]) => `${c} x ${r}`).join('; ');
  throw new UnsupportedOpError(`${model.label()}: no node can be quantized in ${mode} mode (${top})`);
}
