/**
 * QOperator format: lowers DQ -> op -> Q groups of a QDQ model to the integer ops themselves
 * (QLinearConv, QLinearMatMul, com.microsoft QGemm/QLinearAdd/..., MatMulIntegerToFloat) and runs
 * scale-sharing ops directly on 8-bit data, for runtimes that want that form. The QDQ applier's
 * output is the single source: this pass only changes its representation. Groups that cannot be
 * lowered (no integer op, mixed parameters) stay as QDQ, which ORT still understands.
 */
import { Node } from '../../ir/node.js';
import { Value } from '../../ir/value.js';
import type { Graph } from '../../ir/graph.js';
import type { Model } from '../../ir/model.js';
import { UnsupportedOpError } from '../../errors.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { opSupport } from '../../ops/op-support.js';
import { quantizeValue } from '../scheme.js';
import { MS_DOMAIN, ensureOpsetImport } from './opset.js';

interface Dq {
  node: Node;
  x: Value;
  scale: Value;
  zp: Value | null;
}

const isDqNode = (n: Node | null) => n !== null && n.opType === 'DequantizeLinear';

function dqOf(v: Value | null): Dq | undefined {
  const p = v?.producer ?? null;
  if (!isDqNode(p)) return undefined;
  return { node: p!, x: p!.input(0)!, scale: p!.input(1)!, zp: p!.input(2) };
}

/** The single QuantizeLinear reading a node's output, if that is its only reader. */
function soleQ(node: Node): Node | undefined {
  const out = node.output(0);
  if (out.isGraphOutput || out.uses.length !== 1) return undefined;
  const q = out.uses[0]!.node;
  return q.opType === 'QuantizeLinear' ? q : undefined;
}

function sameConst(a: Value | null, b: Value | null): boolean {
  if (a === b) return true;
  const x = a?.constant;
  const y = b?.constant;
  if (!x || !y || x.dataType !== y.dataType || x.size !== y.size) return false;
  const bx = x.bytes();
  const by = y.bytes();
  return bx.every((v, i) => v === by[i]);
}

class Lowering {
  constructor(readonly model: Model, readonly g: Graph) {}

  /** Replaces `node` (and its output Q, when given) by `op`, which produces the quantized (or float) result. */
  replace(node: Node, q: Node | undefined, op: string, domain: string, inputs: (Value | null)[], attributes = [...node.attributes.values()]): Node {
    const target = q ? q.output(0) : node.output(0);
    const out = new Value(this.model.names.fresh(`${target.name}_qop`));
    const lowered = new Node(op, inputs, [out], { name: node.name, domain, attributes });
    this.g.insertBefore(node, lowered);
    const name = target.name;
    const type = target.type;
    target.replaceAllUsesWith(out);
    if (q) this.g.remove(q);
    node.name = this.model.names.fresh(`${name}_lowered`);
    this.g.remove(node, { force: true });
    out.name = name;
    out.type = type;
    ensureOpsetImport(this.model, domain);
    return lowered;
  }

  /** QLinear ops need every zero point; a symmetric int8 weight DQ may have left it out (it is 0). */
  zeroPointFor(d: Dq): Value {
    const t = d.x.constant;
    const type = t?.dataType ?? DataType.UINT8;
    const dims = d.scale.constant?.dims ?? [];
    const count = dims.reduce((a, b) => a * b, 1);
    const g = d.x.graph ?? this.g;
    return g.addInitializer(this.model.names.fresh(`${d.x.name}_zp`), Tensor.fromTyped(type, [...dims], type === DataType.INT8 ? new Int8Array(count) : new Uint8Array(count)));
  }

  lower(node: Node): boolean {
    const sup = opSupport(node.opType, node.domain);
    if (!sup) return false;
    const q = soleQ(node);
    const ins = node.inputs.map((v) => (v ? dqOf(v) : undefined));
    const all = node.inputs.every((v, i) => v === null || ins[i] !== undefined);
    const qio = (d: Dq) => [d.x, d.scale, d.zp ?? this.zeroPointFor(d)];
    const qout = q ? [q.input(1), q.input(2)] : [];
    switch (node.opType) {
      case 'Conv':
        if (!q || !all) return false;
        this.replace(node, q, 'QLinearConv', '', [...qio(ins[0]!), ...qio(ins[1]!), ...qout, ...(ins[2] ? [ins[2].x] : [])]);
        return true;
      case 'MatMul':
        if (!all) return false;
        if (q) this.replace(node, q, 'QLinearMatMul', '', [...qio(ins[0]!), ...qio(ins[1]!), ...qout]);
        else this.replace(node, undefined, 'MatMulIntegerToFloat', MS_DOMAIN, [ins[0]!.x, ins[1]!.x, ins[0]!.scale, ins[1]!.scale, ins[0]!.zp, ins[1]!.zp], []);
        return true;
      case 'Gemm': {
        if (!all) return false;
        const attrs = [...node.attributes.values()].filter((a) => a.name !== 'beta');
        const c = ins[2] ? [ins[2].x] : [null];
        this.replace(node, q, 'QGemm', MS_DOMAIN, [...qio(ins[0]!), ...qio(ins[1]!), ...c, ...qout], attrs);
        return true;
      }
      case 'Add': case 'Mul':
        if (!q || !all) return false;
        this.replace(node, q, `QLinear${node.opType}`, MS_DOMAIN, [...qio(ins[0]!), ...qio(ins[1]!), ...qout], []);
        return true;
      case 'AveragePool': case 'GlobalAveragePool': case 'Sigmoid': case 'LeakyRelu':
        if (!q || !all) return false;
        this.replace(node, q, `QLinear${node.opType}`, MS_DOMAIN, [...qio(ins[0]!), ...qout]);
        return true;
      case 'Softmax': {
        if (!q || !all) return false;
        const lowered = this.replace(node, q, 'QLinearSoftmax', MS_DOMAIN, [...qio(ins[0]!), ...qout]);
        lowered.setAttr('opset', this.model.opset('') ?? 13);
        return true;
      }
      case 'Concat':
        if (!q || !all) return false;
        this.replace(node, q, 'QLinearConcat', MS_DOMAIN, [...qout, ...ins.flatMap((d) => qio(d!))]);
        return true;
    }
    if (sup.role === 'scale-sharing' && (sup.ort?.kernel === 'drop' || sup.integerForm)) return this.runOnIntegers(node, q, ins[0]);
    return false;
  }

  /** Pad on 8-bit data pads with the quantized pad value (the zero point for the default 0). */
  quantizePadValue(node: Node, dq: Dq): boolean {
    const mode = node.getString('mode', 'constant');
    if (mode !== 'constant') return true;
    const scale = dq.scale.constant?.toFloat32()[0];
    const zpT = dq.zp?.constant;
    if (scale === undefined || !zpT) return false;
    const value = node.input(2)?.constant?.toFloat32()[0] ?? 0;
    const [lo, hi] = zpT.dataType === DataType.INT8 ? [-128, 127] : zpT.dataType === DataType.UINT8 ? [0, 255] : zpT.dataType === DataType.INT16 ? [-32768, 32767] : [0, 65535];
    const q = quantizeValue(value, scale, zpT.toFloat32()[0]!, lo, hi);
    const g = node.graph ?? this.g;
    const v = g.addInitializer(this.model.names.fresh(`${node.name}_value_q`), Tensor.fromFloat32(zpT.dataType, [], [q]));
    while (node.inputs.length < 3) node.appendInput(null);
    node.replaceInput(2, v);
    return true;
  }

  /** DQ -> Reshape/MaxPool/... -> Q with identical parameters: the op runs on the 8-bit tensor itself. */
  runOnIntegers(node: Node, q: Node | undefined, dq: Dq | undefined): boolean {
    if (!q || !dq || node.outputs.length !== 1) return false;
    if (!sameConst(dq.scale, q.input(1)) || !sameConst(dq.zp, q.input(2))) return false;
    if (node.opType === 'Pad' && !this.quantizePadValue(node, dq)) return false;
    node.replaceInput(0, dq.x);
    const target = q.output(0);
    const out = node.output(0);
    const name = target.name;
    const type = target.type;
    target.replaceAllUsesWith(out);
    this.g.remove(q);
    out.name = name;
    out.type = type;
    return true;
  }
}

/**
 * In QDQ format: writes the ops ORT would keep in float between identical Q/DQ (Pad, SpaceToDepth)
 * directly on the 8-bit tensors, so the Q/DQ pair around them disappears.
 */
export function lowerIntegerForms(model: Model): void {
  for (const g of model.graph.allGraphs()) {
    const lowering = new Lowering(model, g);
    for (const node of [...g.nodes]) {
      if (node.graph !== g || !opSupport(node.opType, node.domain)?.integerForm) continue;
      const q = soleQ(node);
      const dq = dqOf(node.input(0));
      lowering.runOnIntegers(node, q, dq);
    }
  }
}

/** Rewrites a QDQ model (every graph) into QOperator form, in place. */
export function lowerToQOperator(model: Model): void {
  const opset = model.opset('') ?? 1;
  if (opset < 10) {
    throw new UnsupportedOpError(`${model.label()} is opset ${opset}; QLinearConv and QLinearMatMul exist from opset 10. Use --format qdq (it writes com.microsoft Q/DQ, which ONNX Runtime fuses the same way)`);
  }
  for (const g of [...model.graph.allGraphs()]) {
    const lowering = new Lowering(model, g);
    for (const node of [...g.nodes]) {
      if (node.graph !== g || node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear') continue;
      lowering.lower(node);
    }
  }
}
