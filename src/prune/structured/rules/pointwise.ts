/**
 * Rules for ops that keep every axis in place: elementwise (unary or broadcast over several
 * inputs), per-channel normalization, layer normalization, pooling, Resize and Pad, reductions and
 * single-axis ops (Softmax, ArgMax), and the ops that read shapes.
 */
import type { Node } from '../../../ir/node.js';
import type { Value } from '../../../ir/value.js';
import { Tensor } from '../../../ir/tensor.js';
import { sliceTensor, constOf, constInts, replaceConstant } from '../tensors.js';
import { carry, label, norm, type AnalyzeContext, type ChannelRule } from './context.js';

const keep = (axis: number) => axis;

/** Inputs broadcast against the output from the right: axis a of the output is axis a - offset of the input. */
function offsets(node: Node, a: AnalyzeContext): { rank: number; offset: Map<Value, number> } | undefined {
  const inputs = node.inputs.filter((v): v is Value => v !== null);
  const ranks = inputs.map((v) => a.shapes.rank(v));
  if (ranks.some((r) => r === undefined)) return undefined;
  const rank = Math.max(...(ranks as number[]), a.shapes.rank(node.outputs[0]) ?? 0);
  return { rank, offset: new Map(inputs.map((v, i) => [v, rank - ranks[i]!])) };
}

export const elementwise: ChannelRule = {
  analyze(node, a) {
    const out = node.outputs[0]!;
    const off = offsets(node, a);
    if (!off) {
      for (const v of node.inputs) if (v) a.cg.blockValue(v, `${label(node)}: the rank of an input is unknown`);
      return;
    }
    for (const v of node.inputs) if (v && !constOf(v)) carry(a, v, out, (ax) => ax + off.offset.get(v)!, () => '');
    // Every tracked output axis: each other input must be tracked there, broadcast (size 1), or a constant to cut.
    for (const d of a.cg.get(out)) {
      for (const v of node.inputs) {
        if (!v) continue;
        const ax = d.axis - off.offset.get(v)!;
        if (ax < 0 || a.cg.dimAt(v, ax)) continue;
        const size = a.shapes.size(v, ax);
        if (size === 1) continue;
        if (size === d.ids.length && constOf(v)) continue;
        a.cg.block(d.ids, size === undefined
          ? `${label(node)}: the size of input '${v.name}' along the channel axis is unknown`
          : `${label(node)}: input '${v.name}' has ${size} entries along the channel axis and is not a constant that can be cut with it`);
      }
    }
    for (const o of node.outputs.slice(1)) for (const d of a.cg.get(out)) a.cg.track(o, d.axis, d.ids);
  },
  rewrite(node, r) {
    const out = node.outputs[0]!;
    const off = offsets(node, r)!;
    node.inputs.forEach((v, i) => {
      if (!v || r.cg.get(v).length || !constOf(v)) return;
      let t = constOf(v)!.tensor;
      let changed = false;
      for (const d of r.cg.get(out)) {
        const kept = r.keptOf(d);
        const ax = d.axis - off.offset.get(v)!;
        if (!kept || ax < 0 || t.dims[ax] !== d.ids.length) continue;
        t = sliceTensor(t, ax, kept);
        changed = true;
      }
      if (changed) replaceConstant(node, i, t);
    });
  },
};

/** BatchNormalization / InstanceNormalization: per-channel parameters on axis 1. */
export const channelNorm: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const d = a.cg.dimAt(x, 1);
    if (d) {
      const params = node.inputs.slice(1).filter((v): v is Value => v !== null);
      if (!params.every((p) => constOf(p)?.tensor.dims[0] === d.ids.length)) a.cg.block(d.ids, `${label(node)}: its parameters are not constants of one value per channel`);
      if (node.outputs.slice(1).some((o) => o.uses.length || o.isGraphOutput)) a.cg.block(d.ids, `${label(node)}: its running statistics outputs are used`);
    }
    carry(a, x, node.outputs[0], keep, () => '');
  },
  rewrite(node, r) {
    const kept = r.kept(node.input(0), 1);
    if (!kept) return;
    node.inputs.forEach((v, i) => {
      if (i > 0 && v) replaceConstant(node, i, sliceTensor(constOf(v)!.tensor, 0, kept));
    });
  },
};

export const layerNorm: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    if (rank === undefined) {
      a.cg.blockValue(x!, `${label(node)}: the rank of its input is unknown`);
      return;
    }
    const start = norm(node.getInt('axis', -1), rank);
    carry(a, x, node.outputs[0], (ax) => (ax < start ? ax : undefined), () => `${label(node)} normalizes over the channel axis: removing channels changes every output`);
  },
  rewrite() {},
};

export const pool: ChannelRule = {
  analyze(node, a) {
    if (node.outputs[1] && (node.outputs[1].uses.length || node.outputs[1].isGraphOutput)) {
      a.cg.blockValue(node.input(0)!, `${label(node)}: its indices output counts positions across channels`);
      return;
    }
    carry(a, node.input(0), node.outputs[0], (ax) => (ax <= 1 ? ax : undefined), () => `${label(node)} pools over the tracked axis`);
  },
  rewrite() {},
};

/** Resize / Upsample: the tracked axis must have scale 1 (or a constant size, rewritten). */
export const resize: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const scalesIndex = node.opType === 'Upsample' || a.opset < 11 ? 1 : 2;
    const scales = node.input(scalesIndex)?.constant?.toFloat32();
    const sizes = node.opType === 'Resize' && a.opset >= 11 ? constInts(node.input(3)) : undefined;
    const attrScales = node.getFloats('scales');
    const hasSizes = node.opType === 'Resize' && a.opset >= 11 && node.input(3);
    carry(a, x, node.outputs[0], (ax) => {
      if (hasSizes) return sizes ? ax : undefined;
      const s = scales && scales.length ? scales : attrScales;
      return s && s[ax] === 1 ? ax : undefined;
    }, () => `${label(node)}: its scales or sizes along the channel axis are not constant 1`);
  },
  rewrite(node, r) {
    if (node.opType !== 'Resize' || r.opset < 11 || !node.input(3)) return;
    const sizes = constInts(node.input(3))!;
    let changed = false;
    for (const d of r.cg.get(node.input(0))) {
      const kept = r.keptOf(d);
      if (kept) { sizes[d.axis] = kept.length; changed = true; }
    }
    if (changed) replaceIntConstant(node, 3, sizes);
  },
};

export const pad: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x) ?? 0;
    const pads = a.opset >= 11 ? constInts(node.input(1)) : node.getInts('pads');
    const axes = a.opset >= 18 && node.input(3) ? constInts(node.input(3))?.map((ax) => norm(ax, rank)) : undefined;
    carry(a, x, node.outputs[0], (ax) => {
      if (!pads) return undefined;
      const k = axes ? axes.indexOf(ax) : ax;
      const n = axes ? axes.length : rank;
      return k < 0 || (pads[k] === 0 && pads[k + n] === 0) ? ax : undefined;
    }, () => `${label(node)} pads the channel axis (or its pads are not constant)`);
  },
  rewrite() {},
};

function reduceAxes(node: Node, a: AnalyzeContext): number[] | undefined | 'all' {
  const fromInput = node.opType === 'ReduceSum' ? a.opset >= 13 : a.opset >= 18;
  const axes = fromInput ? (node.input(1) ? constInts(node.input(1)) : 'none') : node.getInts('axes') ?? 'none';
  if (axes === 'none') return node.getInt('noop_with_empty_axes', 0) ? [] : 'all';
  return axes;
}

export const reduce: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    const axes = reduceAxes(node, a);
    const keepdims = node.getInt('keepdims', 1) !== 0;
    carry(a, x, node.outputs[0], (ax) => {
      if (axes === undefined || axes === 'all' || rank === undefined) return undefined;
      const list = axes.map((v) => norm(v, rank));
      if (list.includes(ax)) return undefined;
      return keepdims ? ax : ax - list.filter((v) => v < ax).length;
    }, () => `${label(node)} reduces over the channel axis`);
  },
  rewrite() {},
};

/** Softmax, ArgMax, CumSum, LpNormalization: the op's axis may not be a tracked one. */
export const axisOp: ChannelRule = {
  analyze(node, a) {
    const x = node.input(0);
    const rank = a.shapes.rank(x);
    const isArg = node.opType === 'ArgMax' || node.opType === 'ArgMin';
    const softmaxLegacy = (node.opType === 'Softmax' || node.opType === 'LogSoftmax' || node.opType === 'Hardmax') && a.opset < 13;
    const axis = node.opType === 'CumSum' ? constInts(node.input(1))?.[0] : node.getInt('axis', isArg ? 0 : softmaxLegacy ? 1 : -1);
    const keepdims = !isArg || node.getInt('keepdims', 1) !== 0;
    carry(a, x, node.outputs[0], (ax) => {
      if (axis === undefined || rank === undefined) return undefined;
      const k = norm(axis, rank);
      // Before opset 13, Softmax flattens every axis from `axis` on into one.
      if (softmaxLegacy ? ax >= k : ax === k) return undefined;
      return keepdims || ax < k ? ax : ax - 1;
    }, () => `${label(node)} works along the channel axis`);
  },
  rewrite() {},
};

export const shapeReader: ChannelRule = {
  analyze(node, a) {
    a.cg.blockValue(node.input(0)!, `${label(node)} reads the tensor's shape, which pruning changes`);
  },
  rewrite() {},
};

/** Any op without a rule: what reaches it is left alone. */
export const opaque: ChannelRule = {
  analyze(node, a) {
    for (const v of node.inputs) if (v) a.cg.blockValue(v, `${label(node)}: slimnet has no channel rule for ${node.domain ? `${node.domain}.` : ''}${node.opType}`);
  },
  rewrite() {},
};

/** Replaces an integer constant input (sizes, shapes, starts) by new values of the same type. */
export function replaceIntConstant(node: Node, index: number, values: number[]): void {
  const old = constOf(node.input(index))!.tensor;
  replaceConstant(node, index, Tensor.fromFloat32(old.dataType, [...old.dims], values));
}
