/**
 * Unit scores (higher = keep). 'l1' / 'l2': the norms of every weight slice a unit owns (producer
 * output rows, depthwise filters, consumer input columns), each member normalized by its mean so a
 * large layer does not outvote a small one (the group norm of DepGraph / Torch-Pruning).
 * 'activation': the output energy the unit feeds each consumer on the calibration data,
 * sum_p E[x_p^2] * ||W[:, p]||^2 over the unit's input positions p, as a fraction of that consumer's
 * total (what removing it costs the next layer before any reconstruction); groups no consumer with
 * statistics reads fall back to 'l2'.
 */
import type { Node } from '../../ir/node.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { ChannelImportance } from '../options.js';
import type { ChannelAnalysis } from './analysis.js';
import type { ChannelGroup, Member } from './groups.js';
import { constOf } from './tensors.js';

/** Axis of a weighted node's weight that follows its outputs, and the one that follows its inputs. */
export function weightAxes(node: Node): { out: number; in: number } {
  switch (node.opType) {
    case 'Conv': return { out: 0, in: 1 };
    case 'ConvTranspose': return { out: 1, in: 0 };
    case 'Gemm': return node.getInt('transB', 0) ? { out: 0, in: 1 } : { out: 1, in: 0 };
    default: return { out: 1, in: 0 }; // MatMul [K, N]
  }
}

/** Sum of |w|^p over each index of `axis` of a weight. */
function sliceNorms(node: Node, axis: number, p: 1 | 2): Float64Array {
  const t = constOf(node.input(1))!.tensor;
  const w = t.toFloat32();
  const dims = t.dims;
  const c = dims[axis]!;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(c);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < c; k++) {
      let s = 0;
      const base = (o * c + k) * inner;
      for (let i = 0; i < inner; i++) s += p === 1 ? Math.abs(w[base + i]!) : w[base + i]! * w[base + i]!;
      out[k]! += s;
    }
  }
  return out;
}

/** Per unit of the group: the sum of `perPosition` over the unit's positions in `m`'s tensor. */
function perUnit(an: ChannelAnalysis, g: ChannelGroup, m: Member, perPosition: Float64Array): Float64Array {
  const index = new Map(g.units.map((r, i) => [r, i]));
  const out = new Float64Array(g.units.length);
  const ids = m.dim.ids;
  for (let p = 0; p < ids.length; p++) {
    const u = index.get(an.cg.find(ids[p]!));
    if (u !== undefined) out[u]! += perPosition[p] ?? 0;
  }
  return out;
}

function normalized(v: Float64Array): Float64Array {
  const mean = v.reduce((a, b) => a + b, 0) / (v.length || 1);
  return mean > 0 ? v.map((x) => x / mean) : v;
}

export function scoreGroup(an: ChannelAnalysis, g: ChannelGroup, importance: ChannelImportance, stats: Statistics | undefined): { scores: Float64Array; basis: ChannelImportance } {
  if (importance === 'activation' && stats) {
    const total = new Float64Array(g.units.length);
    let used = 0;
    for (const m of g.members) {
      if (m.role !== 'input') continue;
      const s = stats.get({ tensor: m.dim.value.name, kind: 'channel-l2', axis: m.dim.axis });
      if (!s || s.sumSquares.length !== m.dim.ids.length) continue;
      const wn = sliceNorms(m.node, weightAxes(m.node).in, 2);
      const energy = new Float64Array(m.dim.ids.length);
      // A Flatten before the consumer spreads a channel over several input positions: the weight
      // slices follow positions, the statistics too (they are taken on the consumer's own input).
      for (let p = 0; p < energy.length; p++) energy[p] = s.sumSquares[p]! * wn[p]!;
      const sum = energy.reduce((a, b) => a + b, 0);
      if (!(sum > 0)) continue;
      const u = perUnit(an, g, m, energy);
      for (let i = 0; i < u.length; i++) total[i]! += u[i]! / sum;
      used++;
    }
    if (used) return { scores: total, basis: 'activation' };
  }
  const p = importance === 'l1' ? 1 : 2;
  const total = new Float64Array(g.units.length);
  for (const m of g.members) {
    if (m.role === 'params') continue;
    const axes = weightAxes(m.node);
    const norms = sliceNorms(m.node, m.role === 'input' ? axes.in : axes.out, p);
    const u = normalized(perUnit(an, g, m, norms));
    for (let i = 0; i < u.length; i++) total[i]! += u[i]!;
  }
  return { scores: total, basis: importance === 'activation' ? 'l2' : importance };
}
