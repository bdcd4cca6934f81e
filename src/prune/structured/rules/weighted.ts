/**
 * Rules for the layers with weights. Conv, ConvTranspose, Gemm and a MatMul with a constant weight
 * consume their input channels (the weight's input axis is cut with them) and produce new ones
 * (output axis and bias cut). A depthwise Conv produces exactly its input channels, so the two are
 * joined and its `group` follows the count. A MatMul between two activations (attention) passes
 * its batch axes (heads) through and joins the contracted axis of both sides.
 */
import type { Node } from '../../../ir/node.js';
import { constOf, replaceConstant, sliceTensor } from '../tensors.js';
import { label, type AnalyzeContext, type ChannelRule, type RewriteContext } from './context.js';

/** Cuts `kept` positions of `axes` out of input `index`'s constant (several axes in one go). */
function cutConstant(node: Node, index: number, cuts: [number, Int32Array | undefined][]): void {
  const c = constOf(node.input(index));
  if (!c) return;
  let t = c.tensor;
  let changed = false;
  for (const [axis, kept] of cuts) {
    if (!kept) continue;
    t = sliceTensor(t, axis, kept);
    changed = true;
  }
  if (changed) replaceConstant(node, index, t);
}

function isDepthwise(node: Node, w: number[]): boolean {
  const g = node.getInt('group', 1);
  return g > 1 && w[1] === 1 && w[0] === g;
}

const conv: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const out = node.outputs[0]!;
    const w = constOf(node.input(1))?.tensor;
    const bias = node.input(2);
    if (!w || (bias && !constOf(bias))) {
      a.cg.blockValue(x!, `${label(node)}: its weight or bias is not a constant`);
      return;
    }
    const g = node.getInt('group', 1);
    const depthwise = isDepthwise(node, w.dims);
    for (const d of a.cg.get(x)) {
      if (d.axis !== 1) a.cg.block(d.ids, `${label(node)}: a tracked spatial axis`);
      else if (depthwise) a.cg.track(out, 1, d.ids);
      else if (g > 1) a.cg.block(d.ids, `${label(node)}: a grouped convolution (group ${g}) ties its channels in groups`);
    }
    // A depthwise output is its input's channels: untracked input, nothing to cut.
    if (depthwise) return;
    const ids = a.cg.fresh(w.dims[0]!);
    if (g > 1) a.cg.block(ids, `${label(node)}: a grouped convolution (group ${g}) ties its channels in groups`);
    a.cg.track(out, 1, ids);
  },
  rewrite(node, r) {
    const w = constOf(node.input(1))!.tensor;
    const keptOut = r.kept(node.outputs[0], 1);
    if (isDepthwise(node, w.dims)) {
      if (!keptOut) return;
      cutConstant(node, 1, [[0, keptOut]]);
      if (node.input(2)) cutConstant(node, 2, [[0, keptOut]]);
      node.setAttr('group', keptOut.length);
      return;
    }
    const keptIn = node.getInt('group', 1) === 1 ? r.kept(node.input(0), 1) : undefined;
    cutConstant(node, 1, [[0, keptOut], [1, keptIn]]);
    if (node.input(2)) cutConstant(node, 2, [[0, keptOut]]);
  },
};

const convTranspose: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const w = constOf(node.input(1))?.tensor;
    const bias = node.input(2);
    const g = node.getInt('group', 1);
    if (!w || (bias && !constOf(bias)) || g !== 1) {
      a.cg.blockValue(x!, `${label(node)}: ${g !== 1 ? `a grouped transposed convolution (group ${g})` : 'its weight or bias is not a constant'}`);
      if (w) a.cg.track(node.outputs[0]!, 1, blocked(a, w.dims[1]! * g, `${label(node)}: a grouped transposed convolution`));
      return;
    }
    for (const d of a.cg.get(x)) if (d.axis !== 1) a.cg.block(d.ids, `${label(node)}: a tracked spatial axis`);
    a.cg.track(node.outputs[0]!, 1, a.cg.fresh(w.dims[1]!));
  },
  rewrite(node, r) {
    const keptOut = r.kept(node.outputs[0], 1);
    cutConstant(node, 1, [[0, r.kept(node.input(0), 1)], [1, keptOut]]);
    if (node.input(2)) cutConstant(node, 2, [[0, keptOut]]);
  },
};

function blocked(a: AnalyzeContext, n: number, reason: string): Int32Array {
  const ids = a.cg.fresh(n);
  a.cg.block(ids, reason);
  return ids;
}

const gemm: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const w = constOf(node.input(1))?.tensor;
    const c = node.input(2);
    if (!w || node.getInt('transA', 0) !== 0 || (c && !constOf(c))) {
      a.cg.blockValue(x!, `${label(node)}: ${!w ? 'its B is not a constant' : node.getInt('transA', 0) ? 'transA=1' : 'its C is not a constant'}`);
      return;
    }
    const transB = node.getInt('transB', 0) !== 0;
    const n = transB ? w.dims[0]! : w.dims[1]!;
    for (const d of a.cg.get(x)) if (d.axis === 0) a.cg.track(node.outputs[0]!, 0, d.ids);
    const ids = a.cg.fresh(n);
    const ct = c ? constOf(c)!.tensor : undefined;
    if (ct && ct.size !== 1 && ct.dims[ct.dims.length - 1] !== n) a.cg.block(ids, `${label(node)}: its C does not broadcast along the outputs`);
    a.cg.track(node.outputs[0]!, 1, ids);
  },
  rewrite(node, r) {
    const transB = node.getInt('transB', 0) !== 0;
    const keptIn = r.kept(node.input(0), 1);
    const keptOut = r.kept(node.outputs[0], 1);
    cutConstant(node, 1, transB ? [[0, keptOut], [1, keptIn]] : [[0, keptIn], [1, keptOut]]);
    const ct = node.input(2) ? constOf(node.input(2))!.tensor : undefined;
    if (ct && ct.size !== 1 && keptOut) cutConstant(node, 2, [[ct.dims.length - 1, keptOut]]);
  },
};

const matmul: ChannelRule = {
  analyze(node, a) {
    const A = node.input(0)!;
    const B = node.input(1)!;
    const out = node.outputs[0]!;
    const wb = constOf(B)?.tensor;
    const ra = a.shapes.rank(A);
    if (constOf(A) || (wb && wb.dims.length !== 2) || ra === undefined || ra < 2) {
      for (const v of [A, B]) a.cg.blockValue(v, `${label(node)}: ${ra === undefined ? 'rank unknown' : constOf(A) ? 'a constant left operand' : 'a weight of rank other than 2'}`);
      return;
    }
    if (wb) {
      for (const d of a.cg.get(A)) if (d.axis !== ra - 1) a.cg.track(out, d.axis, d.ids);
      a.cg.track(out, ra - 1, a.cg.fresh(wb.dims[1]!));
      return;
    }
    // Two activations (attention): batch axes pass, the contracted axis joins A's and B's ids.
    const rb = a.shapes.rank(B);
    if (rb === undefined || rb < 2) return a.cg.blockValue(A, `${label(node)}: rank unknown`);
    const ro = Math.max(ra, rb);
    const kA = a.cg.dimAt(A, ra - 1);
    const kB = a.cg.dimAt(B, rb - 2);
    if (kA && kB && kA.ids.length === kB.ids.length) a.cg.tie(kA.ids, kB.ids);
    else for (const d of [kA, kB]) if (d) a.cg.block(d.ids, `${label(node)} contracts a tracked axis with one that is not`);
    for (const d of a.cg.get(A)) if (d.axis !== ra - 1) a.cg.track(out, d.axis === ra - 2 ? ro - 2 : d.axis + ro - ra, d.ids);
    for (const d of a.cg.get(B)) if (d.axis !== rb - 2) a.cg.track(out, d.axis === rb - 1 ? ro - 1 : d.axis + ro - rb, d.ids);
    // A tracked batch axis must be tracked (or broadcast) on both sides.
    for (const d of a.cg.get(out)) {
      if (d.axis >= ro - 2) continue;
      for (const [v, r] of [[A, ra], [B, rb]] as const) {
        const ax = d.axis - (ro - r);
        if (ax >= 0 && !a.cg.dimAt(v, ax) && a.shapes.size(v, ax) !== 1) a.cg.block(d.ids, `${label(node)}: '${v.name}' is not cut along the tracked batch axis`);
      }
    }
  },
  rewrite(node, r: RewriteContext) {
    const A = node.input(0)!;
    if (!constOf(node.input(1))) return;
    const ra = r.shapes.rank(A)!;
    cutConstant(node, 1, [[0, r.kept(A, ra - 1)], [1, r.kept(node.outputs[0], ra - 1)]]);
  },
};

export const weighted: Record<string, ChannelRule> = { Conv: conv, ConvTranspose: convTranspose, Gemm: gemm, MatMul: matmul };
