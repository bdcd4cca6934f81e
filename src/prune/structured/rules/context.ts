/**
 * What a channel rule sees. Each op category has one rule with two halves kept side by side:
 * `analyze` says how the op moves or joins channel ids (run once over the graph), `rewrite` cuts
 * the op's constants and attributes once the removed ids are known. Keeping both in one object is
 * what keeps the analysis and the rewrite from disagreeing.
 */
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import type { ChannelGraph, TrackedDim } from '../channel-graph.js';
import type { ShapeMap } from '../shapes.js';

export interface AnalyzeContext {
  cg: ChannelGraph;
  shapes: ShapeMap;
  opset: number;
}

export interface RewriteContext extends AnalyzeContext {
  /** Positions kept on a tracked axis of `v`; undefined when the axis is untracked or loses nothing. */
  kept(v: Value | null | undefined, axis: number): Int32Array | undefined;
  keptOf(d: TrackedDim): Int32Array | undefined;
}

export interface ChannelRule {
  analyze(node: Node, a: AnalyzeContext): void;
  rewrite(node: Node, r: RewriteContext): void;
}

/** "'name' (Op)" for reasons. */
export function label(node: Node): string {
  return `${node.name || node.outputs[0]?.name || '?'} (${node.opType})`;
}

/** Moves every tracked axis of `from` onto `to` through `map`; an axis `map` cannot place is blocked with `reason`. */
export function carry(a: AnalyzeContext, from: Value | null | undefined, to: Value | undefined, map: (axis: number) => number | undefined, reason: (axis: number) => string): void {
  for (const d of a.cg.get(from)) {
    const b = map(d.axis);
    if (b === undefined || !to) a.cg.block(d.ids, reason(d.axis));
    else a.cg.track(to, b, d.ids);
  }
}

/** Axis normalized to [0, rank). */
export function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
