/**
 * The applier: carries out a QuantPlan on a model (in place; the caller clones). Every rewrite
 * goes through the IR's edges: plan names are resolved to Value and Node objects once, before
 * anything changes, and from then on only objects are used.
 */
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { Node } from '../../ir/node.js';
import { Value, type Use } from '../../ir/value.js';
import type { Graph } from '../../ir/graph.js';
import type { Model } from '../../ir/model.js';
import { PassError } from '../../errors.js';
import { QUANT_DATA_TYPE, type QuantParams } from '../scheme.js';
import { quantizeBias, quantizeConstant, quantizeWeight } from '../weights.js';
import { ensureOpsetImport } from './opset.js';
import { applyStored } from './apply-stored.js';
import { guardFloatLayers } from './float-layer-guard.js';
import type { ActivationQuant, BiasQuant, InputRef, QuantPlan, WeightQuant } from './plan.js';

export class Resolver {
  private readonly nodes = new Map<string, Node>();
  private readonly values = new Map<string, Value>();
  constructor(root: Graph, private readonly label: string) {
    for (const g of root.allGraphs()) {
      for (const n of g.nodes) if (n.name) this.nodes.set(n.name, n);
      for (const v of g.values()) this.values.set(v.name, v);
    }
  }
  node(name: string): Node {
    const n = this.nodes.get(name);
    if (!n) throw new PassError(`the plan names node '${name}', which ${this.label} does not have (was the plan made for another model?)`);
    return n;
  }
  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new PassError(`the plan names tensor '${name}', which ${this.label} does not have (was the plan made for another model?)`);
    return v;
  }
  refs(refs: InputRef[]): Use[] {
    return refs.map((r) => ({ node: this.node(r.node), index: r.input }));
  }
}

/** The graph a value is defined in (where its Q and parameters go, visible to every reader). */
export function definingGraph(v: Value, root: Graph): Graph {
  return v.producer?.graph ?? v.graph ?? root;
}

/**
 * Generated names keep only the last path segment of the tensor they belong to, without the
 * exporter's '_output_N' ('/blocks/blocks.2/pw/Clip_output_0' -> 'Clip'): each quantized tensor
 * adds a Q, DQs, scales and zero points that repeat its name, and full exporter paths would make
 * the structure of a small model outweigh its int8 weights. (The tensors of the model keep their
 * names: the per-layer analysis matches them against the float model.)
 */
export function shortName(name: string): string {
  const last = (name.slice(name.lastIndexOf('/') + 1) || name).replace(/_output_\d+$/, '') || name;
  return last.length > 40 ? last.slice(last.length - 40) : last;
}

/**
 * When nothing reads the float constant `original` any more, `replacement` (its dequantized or
 * decoded form) takes its name: the graph then reads as before, and no extra name is stored.
 */
export function takeName(original: Value, replacement: Value, g: Graph, w: QdqWriter): void {
  if (original.uses.length || original.isGraphOutput || g.inputs.includes(original) || !g.initializers.has(original.name)) return;
  g.removeInitializer(original);
  const name = original.name;
  original.name = w.fresh(`${name}_float`);
  replacement.name = name;
}

export class QdqWriter {
  constructor(readonly model: Model, readonly domain: string) {}

  fresh(base: string): string {
    return this.model.names.fresh(base);
  }

  /** A fresh name derived from a tensor's short name. */
  derived(tensor: string, suffix: string): string {
    return this.model.names.fresh(`${shortName(tensor)}_${suffix}`);
  }

  /** A Cast to float32 of `x` (an initializer, visible to every node) before `at`, or at the end. */
  castToFloat(g: Graph, x: Value, name: string, at: Node | undefined): Value {
    const out = new Value(this.derived(name, 'f'));
    const node = new Node('Cast', [x], [out], { attributes: { to: DataType.FLOAT } });
    if (at) g.insertBefore(at, node);
    else g.append(node);
    return out;
  }

  /** An initializer named after a tensor's short name and a suffix ('Conv_scale'). */
  initializer(g: Graph, tensor: string, suffix: string, t: Tensor): Value {
    return g.addInitializer(this.derived(tensor, suffix), t);
  }

  paramInitializers(g: Graph, tensor: string, p: QuantParams): { scale: Value; zeroPoint: Value } {
    return {
      scale: this.initializer(g, tensor, 'scale', Tensor.float([], [p.scale])),
      zeroPoint: this.initializer(g, tensor, 'zp', Tensor.fromFloat32(QUANT_DATA_TYPE[p.type], [], [p.zeroPoint])),
    };
  }

  /** A DequantizeLinear placed before (or after) a node, so the stable topological sort keeps it there. */
  dequantize(base: string, input: Value, scale: Value, zeroPoint: Value | null, axis: number | null, at: { before: Node } | { after: Node }): Value {
    const out = new Value(this.derived(base, 'dq'));
    const attributes: Record<string, number> = axis === null ? {} : { axis };
    const inputs = zeroPoint ? [input, scale, zeroPoint] : [input, scale];
    // Q/DQ nodes stay unnamed (names are optional in ONNX): in small models their names alone would
    // take a tenth of the file.
    const node = new Node('DequantizeLinear', inputs, [out], { domain: this.domain, attributes });
    if ('before' in at) at.before.graph!.insertBefore(at.before, node);
    else at.after.graph!.insertAfter(at.after, node);
    return out;
  }

  quantize(v: Value, scale: Value, zeroPoint: Value): Value {
    const out = new Value(this.derived(v.name, 'q'));
    const node = new Node('QuantizeLinear', [v, scale, zeroPoint], [out], { domain: this.domain });
    if (v.producer?.graph) v.producer.graph.insertAfter(v.producer, node);
    else {
      const g = definingGraph(v, this.model.graph);
      if (g.nodes.length) g.insertBefore(g.nodes[0]!, node);
      else g.append(node);
    }
    return out;
  }

  /** Rewires the listed input slots to `dq(input)`, one DequantizeLinear per reading node; returns the DQ outputs. */
  readThroughDequantize(base: string, q: Value, scale: Value, zeroPoint: Value | null, axis: number | null, uses: readonly Use[]): Value[] {
    const byNode = new Map<Node, number[]>();
    for (const u of uses) byNode.set(u.node, [...(byNode.get(u.node) ?? []), u.index]);
    const out: Value[] = [];
    for (const [node, inputs] of byNode) {
      const dq = this.dequantize(base, q, scale, zeroPoint, axis, { before: node });
      for (const i of inputs) node.replaceInput(i, dq);
      out.push(dq);
    }
    return out;
  }
}

function applyFolds(plan: QuantPlan, r: Resolver, w: QdqWriter): void {
  for (const f of plan.folds) {
    const relu = r.node(f.node);
    const x = relu.input(0)!;
    const y = relu.output(0);
    const wasOutput = y.isGraphOutput;
    y.replaceAllUsesWith(x);
    relu.graph!.remove(relu);
    if (wasOutput) {
      // The graph output keeps its name and declared type.
      const name = y.name;
      y.name = w.fresh(`${name}_removed`);
      x.name = name;
      x.type = y.type ?? x.type;
    }
  }
}

function applyWeights(weights: WeightQuant[], r: Resolver, w: QdqWriter): void {
  for (const wq of weights) {
    const v = r.value(wq.tensor);
    const uses = r.refs(wq.uses);
    const scales = { scales: Float32Array.from(wq.scales), zeroPoints: Int32Array.from(wq.zeroPoints) };
    const g = definingGraph(v, w.model.graph);
    const q = w.initializer(g, wq.tensor, 'q', quantizeWeight(v.constant!, wq.axis, scales, wq.type));
    const dims = wq.axis === null ? [] : [wq.scales.length];
    const scale = wq.scaleType === 'float16'
      ? w.castToFloat(g, w.initializer(g, wq.tensor, 'scale', Tensor.fromFloat32(DataType.FLOAT16, dims, wq.scales)), `${wq.tensor}_scale`, g.nodes[0])
      : w.initializer(g, wq.tensor, 'scale', Tensor.float(dims, wq.scales));
    // Symmetric int8 weights need no zero point input (it defaults to 0 of the weight's type), except
    // for Gemm: ORT fuses Gemm into QGemm only when the weight DQ has one (measured on 1.30).
    const needsZp = !(wq.type === 'int8' && wq.zeroPoints.every((z) => z === 0)) || uses.some((u) => u.node.opType === 'Gemm');
    const zp = needsZp ? w.initializer(g, wq.tensor, 'zp', Tensor.fromFloat32(wq.type === 'int8' ? DataType.INT8 : DataType.UINT8, dims, wq.zeroPoints)) : null;
    const [dq] = w.readThroughDequantize(wq.tensor, q, scale, zp, wq.axis, uses);
    if (dq) takeName(v, dq, g, w);
  }
}

function applyBiases(biases: BiasQuant[], r: Resolver, w: QdqWriter): void {
  for (const b of biases) {
    // A float bias stays as it is: ORT's WeightBiasQuantization turns it into int32 with exactly
    // x_scale * w_scale when it loads the model (what the plan's scales record).
    if (b.storage === 'float') continue;
    const v = r.value(b.tensor);
    const [use] = r.refs([b.use]);
    const t = v.constant!;
    const flat = t.rank === 1 ? t : t.reshaped([t.size]);
    const g = definingGraph(v, w.model.graph);
    const q = w.initializer(g, b.tensor, 'q', quantizeBias(flat, Float32Array.from(b.scales)).tensor);
    const scale = w.initializer(g, b.tensor, 'scale', Tensor.float(b.axis === null ? [] : [b.scales.length], b.scales));
    const [dq] = w.readThroughDequantize(b.tensor, q, scale, null, b.axis, [use!]);
    if (dq) takeName(v, dq, g, w);
  }
}

function applyActivations(acts: ActivationQuant[], r: Resolver, w: QdqWriter): void {
  // Resolve everything first: rewiring changes uses but never the identity of the values.
  const resolved = acts.map((a) => ({ a, v: r.value(a.tensor), refs: a.readers === 'all' ? null : r.refs(a.readers) }));
  for (const { a, v, refs } of resolved) {
    const home = definingGraph(v, w.model.graph);
    const { scale, zeroPoint } = w.paramInitializers(home, a.tensor, a.params);
    if (a.constant) {
      const q = w.initializer(home, a.tensor, 'q', quantizeConstant(v.constant!, a.params.scale, a.params.zeroPoint, a.params.type));
      w.readThroughDequantize(a.tensor, q, scale, zeroPoint, null, refs ?? [...v.uses]);
      continue;
    }
    const q = w.quantize(v, scale, zeroPoint);
    const qNode = q.producer!;
    const uses = refs ?? v.uses.filter((u) => u.node !== qNode);
    w.readThroughDequantize(a.tensor, q, scale, zeroPoint, null, [...uses]);
    if (a.readers === 'all' && v.isGraphOutput && !v.isGraphInput) {
      // The graph output becomes a DequantizeLinear's output with the original name and type.
      const g = home;
      const dq = w.dequantize(a.tensor, q, scale, zeroPoint, null, { after: qNode });
      const name = v.name;
      v.name = w.fresh(`${name}_float`);
      dq.name = name;
      dq.type = v.type;
      for (let i = 0; i < g.outputs.length; i++) if (g.outputs[i] === v) g.outputs[i] = dq;
    }
  }
}

/** Rewrites `model` (the main graph) as the plan says. */
export function applyQdqPlan(model: Model, plan: QuantPlan): void {
  const r = new Resolver(model.graph, model.label());
  const w = new QdqWriter(model, plan.qdqDomain);
  applyFolds(plan, r, w);
  applyStored(plan.stored, r, w);
  applyWeights(plan.weights, r, w);
  applyBiases(plan.biases, r, w);
  applyActivations(plan.activations, r, w);
  guardFloatLayers(plan, r, w);
  ensureOpsetImport(model, plan.qdqDomain);
}
