/**
 * Which weights an unstructured run prunes, and why it leaves the others: --exclude, the first and
 * last layers (unless --include-first-last), weights shared with a node pruning does not cover,
 * and nodes without a constant float weight.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { excludeMatch } from '../../quantize/static/options.js';
import { findTargets, firstAndLast, type WeightTarget } from '../targets.js';
import type { SkippedLayer } from '../plan.js';

export function nodeName(node: Node): string {
  return node.name || node.outputs[0]?.name || node.opType;
}

export interface Candidates {
  targets: WeightTarget[];
  skipped: SkippedLayer[];
  /** Weights read by several pruned nodes: pruned once, with the first node's statistics. */
  sharedWith: Map<WeightTarget, WeightTarget>;
  /** First/last layers left alone (for the summary's note). */
  firstLast: string[];
}

export function chooseCandidates(model: Model, o: { exclude: string[]; includeFirstLast: boolean }): Candidates {
  const g = model.graph;
  const { targets, unsupported } = findTargets(g);
  const skipped: SkippedLayer[] = unsupported.map(({ node, reason }) => ({ node: nodeName(node), op: node.opType, reason }));
  const { first, last } = firstAndLast(g, targets);
  const chosen: WeightTarget[] = [];
  const firstLast: string[] = [];
  const skip = (t: WeightTarget, reason: string) => skipped.push({ node: nodeName(t.node), op: t.node.opType, reason });
  for (const t of targets) {
    const pattern = o.exclude.find((p) => excludeMatch(p, t.node));
    if (pattern !== undefined) skip(t, `excluded by --exclude ${pattern}`);
    else if (!o.includeFirstLast && (first.has(t.node) || last.has(t.node))) {
      const which = first.has(t.node) && last.has(t.node) ? 'the only weighted layer' : first.has(t.node) ? 'first weighted layer (sees the raw input)' : 'last weighted layer (produces the output)';
      skip(t, `${which}: left dense by default (--include-first-last prunes it)`);
      firstLast.push(nodeName(t.node));
    } else chosen.push(t);
  }
  // A weight read by several nodes is pruned once; if a node outside the candidates reads it too
  // (a tied embedding, an excluded layer), pruning would change that node as well: leave it.
  const bySource = new Map<string, WeightTarget[]>();
  for (const t of chosen) bySource.set(t.source.name, [...(bySource.get(t.source.name) ?? []), t]);
  const result: WeightTarget[] = [];
  const sharedWith = new Map<WeightTarget, WeightTarget>();
  for (const group of bySource.values()) {
    const readers = new Set(group.map((t) => t.cast ?? t.node));
    const outsider = group[0]!.source.consumers().find((n) => !readers.has(n))
      ?? group.flatMap((t) => (t.cast ? t.cast.outputs[0]!.consumers() : [])).find((n) => !group.some((t) => t.node === n));
    if (outsider) {
      for (const t of group) skip(t, `its weight '${t.source.name}' is also read by ${nodeName(outsider)} (${outsider.opType}), which pruning would change too`);
      continue;
    }
    const same = group.every((t) => t.kind === group[0]!.kind && t.rows === group[0]!.rows && t.cols === group[0]!.cols && t.node.getInt('transB', 0) === group[0]!.node.getInt('transB', 0));
    if (!same) {
      for (const t of group) skip(t, `its weight '${t.source.name}' is shared by nodes that read it differently`);
      continue;
    }
    result.push(group[0]!);
    for (const t of group.slice(1)) sharedWith.set(t, group[0]!);
  }
  return { targets: result, skipped, sharedWith, firstLast };
}
