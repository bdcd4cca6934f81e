/**
 * Pruning plans: what will be done, decided before anything is changed, as plain data that can be
 * printed, saved (--plan-out) and compared. Unstructured plans name each layer's sparsity and the
 * method that chooses its zeros; channel plans name, per group of tied channels, which channels go.
 */
import type { PruneMethod, PruneScope } from './options.js';

export interface LayerPlan {
  node: string;
  op: string;
  /** The initializer that holds the weight. */
  weight: string;
  params: number;
  /** Fraction of this layer's weights to zero. */
  sparsity: number;
  /** What chooses the zeros in this layer (a fallback when the requested method cannot run here). */
  method: 'magnitude' | 'wanda' | 'sparsegpt';
  /** N:M groups: the reduction order they follow. */
  pattern?: string;
  note?: string;
}

export interface SkippedLayer {
  node: string;
  op: string;
  reason: string;
}

/** One dependency group: channels that must be removed from every member at once. */
export interface ChannelGroupPlan {
  id: number;
  /** Members: 'node (role)', e.g. 'conv1 (output channels)', 'bn1 (parameters)', 'conv2 (input channels)'. */
  members: string[];
  /** Units in the group (channels, or heads when each unit spans several channels). */
  units: number;
  /** Channels each unit spans in the widest member (1 for plain channels, the head size for heads). */
  width: number;
  /** What a unit is. */
  unit: 'channel' | 'head' | 'neuron';
  /** Units removed, by index (0-based, in the order of the first member's channels). */
  drop: number[];
  /** Scores of the units (higher = kept first), when computed. */
  scores?: number[];
}

export interface BlockedGroup {
  /** Members as in ChannelGroupPlan. */
  members: string[];
  units: number;
  reason: string;
}

export interface PrunePlan {
  schema: 'slimnet.prune-plan/1';
  /** sha256 of the model the plan was made for. */
  model: string;
  method: PruneMethod;
  scope: PruneScope;
  pattern?: string;
  /** The sparsity asked for (or found, with a budget). */
  sparsity: number;
  layers: LayerPlan[];
  skipped: SkippedLayer[];
  groups?: ChannelGroupPlan[];
  blocked?: BlockedGroup[];
}

export function formatPlan(plan: PrunePlan): string {
  const lines = [`prune plan (${plan.method}, scope ${plan.scope}${plan.pattern ? `, pattern ${plan.pattern}` : ''}, sparsity ${plan.sparsity})`];
  for (const l of plan.layers) lines.push(`  ${l.node} (${l.op}) ${l.weight}: ${(l.sparsity * 100).toFixed(1)}% by ${l.method}${l.note ? ` (${l.note})` : ''}`);
  for (const g of plan.groups ?? []) lines.push(`  group ${g.id}: drop ${g.drop.length}/${g.units} ${g.unit}s [${g.drop.join(',')}] from ${g.members.join(', ')}`);
  for (const b of plan.blocked ?? []) lines.push(`  left alone: ${b.members.slice(0, 3).join(', ')}${b.members.length > 3 ? ', ...' : ''} (${b.units} units): ${b.reason}`);
  for (const s of plan.skipped) lines.push(`  skipped ${s.node} (${s.op}): ${s.reason}`);
  return lines.join('\n');
}
