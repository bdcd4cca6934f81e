/**
 * Channel pruning: prepare once (static shapes, the dependency analysis, the one calibration pass
 * for scores and reconstruction), decide which units each group loses, then apply to a copy:
 * reconstruct the layers that lose inputs, cut every member, and count the MACs saved.
 */
import { OptionError } from '../../errors.js';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { cloneModel } from '../../ir/clone.js';
import { modelHash } from '../../onnx/hash.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { StatRequest } from '../../calibrate/types.js';
import { statKey } from '../../calibrate/stats/results.js';
import { Engine } from '../../runtime/engine.js';
import type { ChannelImportance, ResolvedPruneOptions } from '../options.js';
import type { BlockedGroup, ChannelGroupPlan, PrunePlan } from '../plan.js';
import type { ChannelGroupResult, ChannelSummary } from '../types.js';
import { collectPruneStats } from '../stats.js';
import { inferShapes, type ShapeMap } from './shapes.js';
import { analyzeChannels, type ChannelAnalysis } from './analysis.js';
import { describeMember, findGroups, type ChannelGroup } from './groups.js';
import { scoreGroup } from './score.js';
import { rewriteChannels } from './apply.js';
import { reconstructLayer, reconstructRequest } from './reconstruct.js';
import { countMacs } from './macs.js';

export interface ChannelContext {
  base: Model;
  o: ResolvedPruneOptions;
  shapes: ShapeMap;
  analysis: ChannelAnalysis;
  groups: ChannelGroup[];
  stats?: Statistics;
  scores: Map<number, { scores: Float64Array; basis: ChannelImportance }>;
  hash: string;
}

/** Never cut a group below this fraction of its units (--scope global may otherwise empty one). */
const MAX_GROUP_CUT = 0.9;

export async function prepareChannels(base: Model, o: ResolvedPruneOptions): Promise<ChannelContext> {
  const engine = o.engine ?? new Engine();
  const shapes = await inferShapes(base, engine);
  const analysis = analyzeChannels(base, shapes, o.exclude);
  const groups = findGroups(analysis);
  let stats: Statistics | undefined;
  if (o.calibration !== undefined) {
    const requests = new Map<string, StatRequest>();
    for (const g of groups) {
      if (g.blocked) continue;
      for (const m of g.members) {
        if (m.role !== 'input') continue;
        if (o.importance === 'activation') {
          const r: StatRequest = { tensor: m.dim.value.name, kind: 'channel-l2', axis: m.dim.axis };
          requests.set(statKey(r), r);
        }
        const rec = o.reconstruct ? reconstructRequest(m.node) : undefined;
        if (rec) requests.set(statKey(rec), rec);
      }
    }
    if (requests.size) stats = await collectPruneStats(base, [...requests.values()], o);
  }
  const scores = new Map(groups.filter((g) => !g.blocked).map((g) => [g.id, scoreGroup(analysis, g, o.importance, stats)] as const));
  return { base, o, shapes, analysis, groups, ...(stats ? { stats } : {}), scores, hash: modelHash(base) };
}

/**
 * Units to keep after cutting `fraction` of `n`. Plain channels are kept on multiples of
 * `multiple` (ONNX Runtime's blocked convolution kernels work in blocks of 8 or 16 channels) when
 * the group is wide enough for that to cost at most one eighth of it.
 */
export function keptCount(n: number, fraction: number, multiple: number, width: number): number {
  const exact = n - Math.round(fraction * n);
  let kept = exact;
  if (multiple > 1 && width === 1 && n % multiple === 0 && n >= 4 * multiple) kept = Math.max(multiple, Math.round(exact / multiple) * multiple);
  return Math.max(1, Math.min(n, Math.max(kept, Math.ceil(n * (1 - MAX_GROUP_CUT)))));
}

function lowest(scores: Float64Array, count: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}

export function planChannels(ctx: ChannelContext, fraction: number): PrunePlan {
  const { o } = ctx;
  const prunable = ctx.groups.filter((g) => !g.blocked);
  const drops = new Map<number, number>();
  if (o.scope === 'global') {
    // One threshold on scores normalized within each group (mean 1), then each group's count is rounded.
    const pool: { g: number; s: number }[] = [];
    for (const g of prunable) {
      const s = ctx.scores.get(g.id)!.scores;
      const mean = s.reduce((a, b) => a + b, 0) / s.length || 1;
      s.forEach((x) => pool.push({ g: g.id, s: x / mean }));
    }
    pool.sort((a, b) => a.s - b.s);
    const take = Math.round(fraction * pool.length);
    for (const p of pool.slice(0, take)) drops.set(p.g, (drops.get(p.g) ?? 0) + 1);
  }
  const groups: ChannelGroupPlan[] = [];
  for (const g of prunable) {
    const n = g.units.length;
    const share = o.scope === 'global' ? (drops.get(g.id) ?? 0) / n : fraction;
    const kept = keptCount(n, share, o.channelMultiple, g.width);
    const sc = ctx.scores.get(g.id)!;
    const drop = lowest(sc.scores, n - kept);
    groups.push({ id: g.id, members: g.members.map(describeMember), units: n, width: g.width, unit: g.unit, drop, scores: Array.from(sc.scores, (x) => Number(x.toPrecision(4))) });
  }
  const blocked: BlockedGroup[] = ctx.groups.filter((g) => g.blocked).map((g) => ({ members: g.members.length ? g.members.map(describeMember) : g.dims.slice(0, 3).map((d) => `'${d.value.name}'`), units: g.units.length, reason: g.blocked! }));
  return { schema: 'slimnet.prune-plan/1', model: ctx.hash, method: 'channel', scope: o.scope, sparsity: fraction, layers: [], skipped: [], groups, blocked };
}

export async function applyChannels(ctx: ChannelContext, plan: PrunePlan): Promise<{ model: Model; channels: ChannelSummary; notes: string[] }> {
  const model = cloneModel(ctx.base);
  // The analysis is repeated on the copy (its values are new objects); it is deterministic, so
  // group ids and unit order match the plan's.
  const an = analyzeChannels(model, ctx.shapes, ctx.o.exclude);
  const groups = findGroups(an);
  const notes: string[] = [];
  const dropped = new Set<number>();
  const results: ChannelGroupResult[] = [];
  const consumers = new Map<Node, Set<number>>();
  for (const gp of plan.groups ?? []) {
    const g = groups[gp.id];
    if (!g || g.units.length !== gp.units || g.blocked) {
      const found = !g ? `this model has ${groups.length} groups` : g.blocked ? 'that group cannot be pruned here' : `that group has ${g.units.length} units, not ${gp.units}`;
      throw new OptionError(`the pruning plan's group ${gp.id} does not match this model's channel groups (${found}): the plan was made for another model or edited; make it again with --plan-out`);
    }
    for (const u of gp.drop) dropped.add(g.units[u]!);
    if (gp.drop.length) for (const m of g.members) if (m.role === 'input') consumers.set(m.node, new Set([...(consumers.get(m.node) ?? []), gp.id]));
    results.push({ id: g.id, members: gp.members, unit: gp.unit, before: gp.units, after: gp.units - gp.drop.length, reconstructed: [] });
  }
  const before = countMacs(model, ctx.shapes);
  if (ctx.o.reconstruct && ctx.stats && dropped.size) {
    for (const [node, ids] of consumers) {
      const input = node.input(0)!;
      const dims = an.cg.get(input);
      const d = dims.find((x) => x.axis === (node.opType === 'MatMul' ? ctx.shapes.rank(input)! - 1 : 1));
      if (!d) continue;
      const kept = Int32Array.from([...d.ids.keys()].filter((p) => !dropped.has(an.cg.find(d.ids[p]!))));
      if (reconstructLayer(node, kept, d.ids.length, ctx.stats)) {
        for (const id of ids) results.find((r) => r.id === id)!.reconstructed.push(node.name || node.outputs[0]!.name);
      } else notes.push(`${node.name}: not reconstructed (no Gram matrix of its input, or a layer type least squares does not refit)`);
    }
  }
  rewriteChannels(an, dropped);
  const channels: ChannelSummary = { groups: results, blocked: plan.blocked ?? [] };
  const after = countMacs(model, ctx.shapes);
  if (before !== undefined && after !== undefined) channels.macs = { before, after };
  if (ctx.stats?.notes.length) notes.push(...ctx.stats.notes);
  return { model, channels, notes };
}
