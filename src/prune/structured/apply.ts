/**
 * Carries out a channel cut: every node's rule cuts its constants and attributes to the kept
 * positions (rules/), then the declared shapes of the tensors that lost channels are updated so
 * the saved model's value_info agrees with what ONNX Runtime infers.
 */
import { isTensorType } from '../../ir/types.js';
import type { ChannelAnalysis } from './analysis.js';
import type { TrackedDim } from './channel-graph.js';
import { ruleFor, type RewriteContext } from './rules/index.js';

/** The rewrite context for a set of removed unit roots. */
export function rewriteContext(an: ChannelAnalysis, dropped: ReadonlySet<number>): RewriteContext {
  const { cg } = an;
  const cache = new Map<TrackedDim, Int32Array | null>();
  const keptOf = (d: TrackedDim): Int32Array | undefined => {
    let k = cache.get(d);
    if (k === undefined) {
      const pos: number[] = [];
      for (let p = 0; p < d.ids.length; p++) if (!dropped.has(cg.find(d.ids[p]!))) pos.push(p);
      k = pos.length === d.ids.length ? null : Int32Array.from(pos);
      cache.set(d, k);
    }
    return k ?? undefined;
  };
  return { cg, shapes: an.shapes, opset: an.opset, keptOf, kept: (v, axis) => { const d = cg.dimAt(v, axis); return d ? keptOf(d) : undefined; } };
}

export function rewriteChannels(an: ChannelAnalysis, dropped: ReadonlySet<number>): void {
  const r = rewriteContext(an, dropped);
  for (const node of [...an.model.graph.nodes]) ruleFor(node).rewrite(node, r);
  for (const [v, list] of an.cg.dims) {
    if (!isTensorType(v.type) || !v.type.shape) continue;
    for (const d of list) {
      const k = r.keptOf(d);
      if (k && typeof v.type.shape[d.axis] === 'number') v.type.shape[d.axis] = k.length;
    }
  }
}
