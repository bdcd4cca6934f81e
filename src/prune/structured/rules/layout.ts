/**
 * Rules for ops that move, merge, split or select along axes: Transpose, Squeeze/Unsqueeze,
 * Flatten, Reshape (including the split of a hidden axis into attention heads and their merge),
 * Concat, Split, Slice and Gather.
 */
import type { Node } from '../../../ir/node.js';
import { Tensor } from '../../../ir/tensor.js';
import { constInts } from '../tensors.js';
import type { Shape } from '../shapes.js';
import { carry, label, norm, type AnalyzeContext, type ChannelRule } from './context.js';
import { replaceIntConstant } from './pointwise.js';

export const transpose: ChannelRule = {
  analyze(node, a) {
    const rank = a.shapes.rank(node.input(0));
    const perm = node.getInts('perm') ?? (rank !== undefined ? Array.from({ length: rank }, (_, i) => rank - 1 - i) : undefined);
    carry(a, node.input(0), node.outputs[0], (ax) => (perm ? perm.indexOf(ax) : undefined), () => `${label(node)}: its permutation is unknown`);
  },
  rewrite() {},
};

function axesOf(node: Node, a: AnalyzeContext, rank: number | undefined): number[] | undefined {
  const axes = a.opset >= 13 ? constInts(node.input(1)) : node.getInts('axes');
  return axes && rank !== undefined ? axes.map((x) => norm(x, rank)) : axes;
}

export const squeeze: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const shape = a.shapes.of(x);
    let axes = axesOf(node, a, shape?.length);
    if (!axes && shape) axes = shape.flatMap((d, i) => (d === 1 ? [i] : []));
    carry(a, x, node.outputs[0], (ax) => (axes && !axes.includes(ax) ? ax - axes.filter((v) => v < ax).length : undefined), () => `${label(node)}: its axes are unknown`);
  },
  rewrite() {},
};

export const unsqueeze: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    const raw = a.opset >= 13 ? constInts(node.input(1)) : node.getInts('axes');
    const outRank = rank !== undefined && raw ? rank + raw.length : undefined;
    const axes = raw && outRank !== undefined ? raw.map((v) => norm(v, outRank)).sort((p, q) => p - q) : undefined;
    carry(a, x, node.outputs[0], (ax) => {
      if (!axes) return undefined;
      // Output axes not inserted take the input axes in order.
      let out = ax;
      for (const inserted of axes) if (inserted <= out) out++;
      return out;
    }, () => `${label(node)}: its axes are unknown`);
  },
  rewrite() {},
};

const isNum = (d: number | string | undefined): d is number => typeof d === 'number';
const prod = (s: Shape, from: number, to: number) => s.slice(from, to).reduce<number>((p, d) => p * (d as number), 1);

/**
 * Ids of a tracked axis of size C seen through a merge with neighbouring axes: position
 * (outer, c, inner) of the merged axis carries the id of channel c.
 */
function expand(ids: Int32Array, outer: number, inner: number): Int32Array {
  const out = new Int32Array(outer * ids.length * inner);
  for (let o = 0; o < outer; o++) for (let c = 0; c < ids.length; c++) out.fill(ids[c]!, (o * ids.length + c) * inner, (o * ids.length + c + 1) * inner);
  return out;
}

export const flatten: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const shape = a.shapes.of(x);
    const rank = shape?.length;
    const axis = rank !== undefined ? norm(node.getInt('axis', 1), rank) : undefined;
    for (const d of a.cg.get(x)) {
      if (!shape || axis === undefined || d.axis < axis || !shape.slice(axis).every(isNum)) {
        a.cg.block(d.ids, `${label(node)} merges the channel axis with axes of unknown or batch size`);
        continue;
      }
      a.cg.track(node.outputs[0]!, 1, expand(d.ids, prod(shape, axis, d.axis), prod(shape, d.axis + 1, shape.length)));
    }
  },
  rewrite() {},
};

/**
 * Pairs input and output axes of a Reshape into groups with equal products (a leading unknown
 * axis, the batch, pairs with a leading unknown axis). Undefined when the shapes do not line up.
 */
export function reshapeGroups(input: Shape, output: Shape): { inAxes: number[]; outAxes: number[] }[] | undefined {
  const groups: { inAxes: number[]; outAxes: number[] }[] = [];
  let i = 0;
  let j = 0;
  if (input.length && output.length && !isNum(input[0]) && !isNum(output[0])) {
    groups.push({ inAxes: [0], outAxes: [0] });
    i = 1;
    j = 1;
  }
  if (!input.slice(i).every(isNum) || !output.slice(j).every(isNum)) return undefined;
  while (i < input.length || j < output.length) {
    const g = { inAxes: [] as number[], outAxes: [] as number[] };
    let pi = 1;
    let pj = 1;
    if (i < input.length) { pi *= input[i] as number; g.inAxes.push(i++); }
    if (j < output.length) { pj *= output[j] as number; g.outAxes.push(j++); }
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= input.length) return undefined;
        pi *= input[i] as number;
        g.inAxes.push(i++);
      } else {
        if (j >= output.length) return undefined;
        pj *= output[j] as number;
        g.outAxes.push(j++);
      }
    }
    groups.push(g);
  }
  return groups;
}

export const reshape: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const out = node.outputs[0]!;
    const tracked = a.cg.get(x);
    if (!tracked.length) return;
    const block = (why: string) => a.cg.blockValue(x!, `${label(node)}: ${why}`);
    const inShape = a.shapes.of(x);
    const outShape = a.shapes.of(out);
    const target = constInts(node.input(1));
    if (!inShape || !outShape || !target) return block('its shapes are not known statically');
    const groups = reshapeGroups(inShape, outShape);
    if (!groups) return block(`its shapes ${JSON.stringify(inShape)} -> ${JSON.stringify(outShape)} do not line up axis groups`);
    for (const d of tracked) {
      const g = groups.find((x2) => x2.inAxes.includes(d.axis))!;
      const others = g.inAxes.filter((ax) => ax !== d.axis && inShape[ax] !== 1);
      const outNon1 = g.outAxes.filter((ax) => outShape[ax] !== 1);
      if (g.inAxes.some((ax) => ax !== d.axis && a.cg.dimAt(x, ax))) {
        a.cg.block(d.ids, `${label(node)} merges two tracked axes`);
        continue;
      }
      if (others.length === 0 && outNon1.length === 1) {
        a.cg.track(out, outNon1[0]!, d.ids);
      } else if (others.length === 0 && outNon1.length >= 2) {
        // A hidden axis split into (..., heads, head size): a unit is one index of the
        // second-to-last axis (a head), all its other entries joined to it.
        const unitAxis = outNon1[outNon1.length - 2]!;
        const sizes = outNon1.map((ax) => outShape[ax] as number);
        const inner = sizes[sizes.length - 1]!;
        const units = sizes[sizes.length - 2]!;
        const rep = new Int32Array(units);
        for (let k = 0; k < units; k++) rep[k] = d.ids[k * inner]!;
        for (let p = 0; p < d.ids.length; p++) a.cg.union(d.ids[p]!, rep[Math.floor(p / inner) % units]!);
        a.cg.track(out, unitAxis, rep);
      } else if (outNon1.length === 1) {
        // Merged with neighbouring axes (heads and head size back into the hidden axis).
        const inner = prod(inShape, d.axis + 1, g.inAxes[g.inAxes.length - 1]! + 1);
        const outer = prod(inShape, g.inAxes[0]!, d.axis);
        a.cg.track(out, outNon1[0]!, expand(d.ids, outer, inner));
      } else {
        a.cg.block(d.ids, `${label(node)} regroups the channel axis with others (${JSON.stringify(inShape)} -> ${JSON.stringify(outShape)})`);
        continue;
      }
      // The shape constant must be rewritable: a 0 (copy) on an output axis of the group is only
      // safe where it copies the tracked axis itself.
      for (const ax of g.outAxes) {
        if (target[ax] === 0 && node.getInt('allowzero', 0) === 0 && ax !== d.axis) a.cg.block(d.ids, `${label(node)}: its shape copies a different input axis (0) into the channel group`);
      }
    }
  },
  rewrite(node, r) {
    const out = node.outputs[0]!;
    const target = constInts(node.input(1))!;
    let changed = false;
    for (const d of r.cg.get(out)) {
      const kept = r.keptOf(d);
      if (!kept || target[d.axis] === undefined || target[d.axis]! <= 0) continue;
      target[d.axis] = kept.length;
      changed = true;
    }
    if (changed) replaceIntConstant(node, 1, target);
  },
};

export const concat: ChannelRule = {
  analyze(node, a) {
    const out = node.outputs[0]!;
    const rank = a.shapes.rank(out) ?? a.shapes.rank(node.input(0));
    if (rank === undefined) {
      for (const v of node.inputs) if (v) a.cg.blockValue(v, `${label(node)}: its rank is unknown`);
      return;
    }
    const axis = norm(node.getInt('axis', 0), rank);
    const inputs = node.inputs.filter((v) => v !== null);
    for (const v of inputs) carry(a, v, out, (ax) => (ax === axis ? undefined : ax), () => '');
    for (const d of a.cg.get(out)) {
      if (inputs.some((v) => !a.cg.dimAt(v, d.axis))) a.cg.block(d.ids, `${label(node)}: some inputs are not channel-pruned along axis ${d.axis}`);
    }
    if (!inputs.some((v) => a.cg.dimAt(v, axis))) return;
    const parts: Int32Array[] = [];
    for (const v of inputs) {
      const d = a.cg.dimAt(v, axis);
      if (d) { parts.push(d.ids); continue; }
      const size = a.shapes.size(v, axis);
      if (size === undefined) {
        for (const w of inputs) { const dd = a.cg.dimAt(w, axis); if (dd) a.cg.block(dd.ids, `${label(node)}: input '${v!.name}' has an unknown size along the concatenated axis`); }
        return;
      }
      const ids = a.cg.fresh(size);
      a.cg.block(ids, `${label(node)}: input '${v!.name}' is not a channel-pruned tensor`);
      parts.push(ids);
    }
    const all = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) { all.set(p, off); off += p.length; }
    a.cg.track(out, axis, all);
  },
  rewrite() {},
};

function splitSizes(node: Node, a: AnalyzeContext, size: number): number[] | undefined {
  const explicit = a.opset >= 13 ? (node.input(1) ? constInts(node.input(1)) : undefined) : node.getInts('split');
  if (explicit) return explicit;
  const n = node.getInt('num_outputs') ?? node.outputs.length;
  const each = Math.ceil(size / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(each, size - i * each)));
}

export const split: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    if (rank === undefined) return a.cg.blockValue(x!, `${label(node)}: its rank is unknown`);
    const axis = norm(node.getInt('axis', 0), rank);
    for (const d of a.cg.get(x)) {
      if (d.axis !== axis) {
        for (const o of node.outputs) a.cg.track(o, d.axis, d.ids);
        continue;
      }
      const sizes = splitSizes(node, a, d.ids.length);
      if (!sizes || sizes.reduce((p, q) => p + q, 0) !== d.ids.length) {
        a.cg.block(d.ids, `${label(node)}: its split sizes are not constant`);
        continue;
      }
      let off = 0;
      node.outputs.forEach((o, i) => {
        a.cg.track(o, axis, d.ids.slice(off, off + sizes[i]!));
        off += sizes[i]!;
      });
    }
  },
  rewrite(node, r) {
    const x = node.input(0);
    const d = r.cg.get(x).find((dd) => node.outputs.every((o) => r.cg.dimAt(o, dd.axis)) && dd.axis === norm(node.getInt('axis', 0), r.shapes.rank(x)!));
    if (!d || !r.keptOf(d)) return;
    const sizes = node.outputs.map((o) => r.kept(o, d.axis)?.length ?? r.cg.dimAt(o, d.axis)!.ids.length);
    if (r.opset >= 13) {
      if (node.input(1)) replaceIntConstant(node, 1, sizes);
      else {
        // An equal split becomes explicit: the parts may now differ in size.
        const g = node.graph!;
        const v = g.addInitializer(g.nameAuthority()?.fresh(`${node.name || 'split'}_sizes`) ?? `${node.name}_sizes`, Tensor.int64([sizes.length], sizes));
        node.truncateInputs(1);
        node.appendInput(v);
        node.attributes.delete('num_outputs');
      }
    } else node.setAttr('split', sizes);
  },
};

function sliceParams(node: Node, a: AnalyzeContext): { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] } | undefined {
  if (a.opset < 10) {
    const starts = node.getInts('starts');
    const ends = node.getInts('ends');
    const axes = node.getInts('axes');
    return starts && ends ? { starts, ends, ...(axes ? { axes } : {}) } : undefined;
  }
  const starts = constInts(node.input(1));
  const ends = constInts(node.input(2));
  const axes = node.input(3) ? constInts(node.input(3)) : undefined;
  const steps = node.input(4) ? constInts(node.input(4)) : undefined;
  if (!starts || !ends || (node.input(3) && !axes) || (node.input(4) && !steps)) return undefined;
  return { starts, ends, ...(axes ? { axes } : {}), ...(steps ? { steps } : {}) };
}

function clampIndex(v: number, size: number): number {
  const x = v < 0 ? v + size : v;
  return Math.max(0, Math.min(size, x));
}

export const slice: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    const p = sliceParams(node, a);
    for (const d of a.cg.get(x)) {
      if (!p || rank === undefined) { a.cg.block(d.ids, `${label(node)}: its starts, ends or axes are not constant`); continue; }
      const axes = (p.axes ?? p.starts.map((_, i) => i)).map((v) => norm(v, rank));
      const k = axes.indexOf(d.axis);
      if (k < 0) { a.cg.track(node.outputs[0]!, d.axis, d.ids); continue; }
      if ((p.steps?.[k] ?? 1) !== 1) { a.cg.block(d.ids, `${label(node)} steps over the channel axis`); continue; }
      const s = clampIndex(p.starts[k]!, d.ids.length);
      const e = clampIndex(p.ends[k]!, d.ids.length);
      a.cg.track(node.outputs[0]!, d.axis, d.ids.slice(s, Math.max(s, e)));
    }
  },
  rewrite(node, r) {
    const x = node.input(0);
    const rank = r.shapes.rank(x)!;
    const p = sliceParams(node, r)!;
    const axes = (p.axes ?? p.starts.map((_, i) => i)).map((v) => norm(v, rank));
    let changed = false;
    for (const d of r.cg.get(x)) {
      const k = axes.indexOf(d.axis);
      const kept = r.keptOf(d);
      if (k < 0 || !kept) continue;
      const C = d.ids.length;
      const s = clampIndex(p.starts[k]!, C);
      const e = clampIndex(p.ends[k]!, C);
      // New bounds: how many kept positions lie before each old bound.
      const before = (pos: number) => kept.filter((q) => q < pos).length;
      p.starts[k] = before(s);
      p.ends[k] = e >= C ? Math.max(p.ends[k]!, kept.length) : before(e);
      changed = true;
    }
    if (!changed) return;
    if (r.opset < 10) {
      node.setAttr('starts', p.starts);
      node.setAttr('ends', p.ends);
    } else {
      replaceIntConstant(node, 1, p.starts);
      replaceIntConstant(node, 2, p.ends);
    }
  },
};

export const gather: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    const idxRank = a.shapes.rank(node.input(1));
    if (rank === undefined || idxRank === undefined) return a.cg.blockValue(x!, `${label(node)}: its ranks are unknown`);
    const axis = norm(node.getInt('axis', 0), rank);
    carry(a, x, node.outputs[0], (ax) => (ax === axis ? undefined : ax < axis ? ax : ax + idxRank - 1), () => `${label(node)} gathers along the channel axis`);
    if (a.cg.get(node.input(1)).length) a.cg.blockValue(node.input(1)!, `${label(node)}: channels used as indices`);
  },
  rewrite() {},
};
