/**
 * From joined channel ids to dependency groups. A unit is one set of joined ids (one channel of a
 * residual stage, one attention head); units that appear in exactly the same tensors form a group,
 * which is what the plan prunes to one ratio. Members are the layers whose weights a cut changes:
 * producers (output channels), consumers (input channels) and per-channel parameters.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { channelFlow } from '../../ops/channel-flow.js';
import type { ChannelAnalysis } from './analysis.js';
import { constOf } from './tensors.js';

export interface GroupDim {
  value: Value;
  axis: number;
  ids: Int32Array;
}

export interface Member {
  node: Node;
  role: 'output' | 'input' | 'depthwise' | 'params';
  /** The tensor and axis whose positions the member's slices follow. */
  dim: GroupDim;
}

export interface ChannelGroup {
  id: number;
  /** Unit roots, in the order of the first tensor's positions. */
  units: number[];
  dims: GroupDim[];
  members: Member[];
  /** Positions a unit spans in the widest tensor. */
  width: number;
  unit: 'channel' | 'head' | 'neuron';
  blocked?: string;
}

/** The axis of a weighted node's input whose channels it consumes (its weight's input axis follows them). */
export function consumedAxis(node: Node, input: Value, rank: number | undefined): number | undefined {
  const w = constOf(node.input(1))?.tensor;
  if (node.domain !== '' || !w || node.input(0) !== input) return undefined;
  switch (node.opType) {
    case 'Conv': return node.getInt('group', 1) === 1 ? 1 : undefined;
    case 'ConvTranspose': return node.getInt('group', 1) === 1 ? 1 : undefined;
    case 'Gemm': return node.getInt('transA', 0) === 0 ? 1 : undefined;
    case 'MatMul': return rank !== undefined && w.dims.length === 2 ? rank - 1 : undefined;
    default: return undefined;
  }
}

function isWeighted(n: Node | null): n is Node {
  return !!n && n.domain === '' && channelFlow(n.opType) === 'weighted' && !!constOf(n.input(1)) && !constOf(n.input(0));
}

function membersOf(an: ChannelAnalysis, dims: GroupDim[]): Member[] {
  const out: Member[] = [];
  const seen = new Set<string>();
  const add = (m: Member) => {
    const key = `${m.node.name}|${m.role}`;
    if (!seen.has(key)) { seen.add(key); out.push(m); }
  };
  for (const dim of dims) {
    const p = dim.value.producer;
    if (isWeighted(p)) {
      const w = constOf(p.input(1))!.tensor;
      const depthwise = p.opType === 'Conv' && p.getInt('group', 1) > 1;
      const rank = an.shapes.rank(p.outputs[0]);
      const outAxis = p.opType === 'MatMul' ? (rank ?? 0) - 1 : 1;
      if (dim.axis === outAxis) add({ node: p, role: depthwise && w.dims[1] === 1 ? 'depthwise' : 'output', dim });
    }
    for (const c of dim.value.consumers()) {
      if (isWeighted(c) && consumedAxis(c, dim.value, an.shapes.rank(dim.value)) === dim.axis) add({ node: c, role: 'input', dim });
      else if (c.domain === '' && channelFlow(c.opType) === 'channel-norm' && dim.axis === 1) add({ node: c, role: 'params', dim });
    }
  }
  return out;
}

export function findGroups(an: ChannelAnalysis): ChannelGroup[] {
  const { cg } = an;
  const blocked = cg.blockedRoots();
  // Which tensors each root appears in, and how often in each.
  const dims: GroupDim[] = [];
  for (const [value, list] of cg.dims) for (const d of list) dims.push({ value, axis: d.axis, ids: d.ids });
  const where = new Map<number, Map<number, number>>();
  dims.forEach((d, k) => {
    for (let p = 0; p < d.ids.length; p++) {
      const r = cg.find(d.ids[p]!);
      let m = where.get(r);
      if (!m) where.set(r, (m = new Map()));
      m.set(k, (m.get(k) ?? 0) + 1);
    }
  });
  const bySignature = new Map<string, number[]>();
  for (const [root, m] of where) {
    const key = [...m.keys()].sort((x, y) => x - y).join(',');
    bySignature.set(key, [...(bySignature.get(key) ?? []), root]);
  }
  const groups: ChannelGroup[] = [];
  for (const [key, roots] of bySignature) {
    const dimIdx = key.split(',').map(Number);
    const gdims = dimIdx.map((k) => dims[k]!);
    // Units in the order they first appear in the first tensor of the group.
    const first = gdims[0]!;
    const order = new Map<number, number>();
    for (let p = 0; p < first.ids.length; p++) {
      const r = cg.find(first.ids[p]!);
      if (!order.has(r)) order.set(r, p);
    }
    const units = [...roots].sort((x, y) => order.get(x)! - order.get(y)!);
    const width = Math.max(...[...where.get(units[0]!)!.values()]);
    const members = membersOf(an, gdims);
    const producers = members.filter((m) => m.role === 'output');
    const unit = width > 1 ? 'head' : producers.length && producers.every((m) => m.node.opType === 'MatMul' || m.node.opType === 'Gemm') ? 'neuron' : 'channel';
    const reason = units.map((r) => blocked.get(r)).find((x) => x !== undefined);
    const group: ChannelGroup = { id: 0, units, dims: gdims, members, width, unit };
    if (reason !== undefined) group.blocked = reason;
    else if (!members.some((m) => m.role === 'output' || m.role === 'input')) group.blocked = 'no layer with weights produces or consumes these channels';
    groups.push(group);
  }
  // Stable ids in graph order of the group's first tensor.
  groups.sort((x, y) => dims.indexOf(x.dims[0]!) - dims.indexOf(y.dims[0]!));
  groups.forEach((g, i) => (g.id = i));
  return groups;
}

export function describeMember(m: Member): string {
  const name = m.node.name || m.node.outputs[0]?.name || m.node.opType;
  const role = { output: 'output channels', input: 'input channels', depthwise: 'depthwise channels', params: 'parameters' }[m.role];
  return `${name} (${role})`;
}
