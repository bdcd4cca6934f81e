/**
 * The static quantization planner: from a preprocessed model and calibrated ranges to a QuantPlan.
 *
 * Placement follows what ONNX Runtime's CPU EP fuses (op-support table): every Conv/MatMul/Gemm
 * gets Q/DQ on its activations and weights; cheap ops with int8 kernels (Add, Concat, pooling,
 * Sigmoid, ...) join when their inputs are quantized anyway; data-movement ops share their input's
 * parameters so ORT drops their Q/DQ; Relu/Clip after a quantized producer are removed when the
 * producer's output Q saturates exactly where they clip. A MatMul/Gemm whose result only feeds
 * float ops keeps a float output (MatMulIntegerToFloat / QGemm), saving a Q/DQ round trip.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { inferElemTypes } from '../../ir/elem-types.js';
import type { Use } from '../../ir/value.js';
import type { TensorRange } from '../../calibrate/types.js';
import { activationInputIndices, type OpSupport } from '../../ops/op-support.js';
import type { ResolvedStaticOptions } from './options.js';
import type { NodePlan, QuantPlan } from './plan.js';
import { planActivations, UnionFind } from './plan-activations.js';
import { clipBounds, eligibility } from './select.js';
import { planWeights } from './plan-weights.js';
import { weightWords } from '../weight-encoding.js';
import { qdqDomainFor } from './opset.js';
import { quantizableNodes } from './subgraph-probe.js';
import { planStored } from './plan-stored.js';
import { excludeMatch } from './options.js';

export interface PlanOverrides {
  /** Nodes to keep in float whatever the placement, with the reason (the placement search's measurements). */
  forceFloat?: ReadonlyMap<string, string>;
}

const isConstant = (v: Value) => v.constant !== undefined;

interface State {
  model: Model;
  options: ResolvedStaticOptions;
  ranges: Map<string, TensorRange>;
  eligible: Map<Node, OpSupport>;
  compute: Set<Node>;
  shared: Set<Node>;
  /** Relu/Clip node -> the tensor it folds into (its producer's output). */
  folds: Map<Node, Value>;
  decisions: Map<Node, NodePlan>;
}

/** Activation inputs of a node; a constant in a weight slot is a weight (quantized per channel), not an activation. */
function actInputs(node: Node, support: OpSupport): { value: Value; index: number }[] {
  const weightSlots = new Set((support.weights ?? []).map((w) => w.index));
  return activationInputIndices(support, node.inputs.length)
    .map((index) => ({ value: node.input(index)!, index }))
    .filter((x) => x.value !== null && !(weightSlots.has(x.index) && isConstant(x.value)));
}


/** A Relu or Clip that can disappear into the quantized output of its producer. */
function foldTarget(node: Node, s: State, opset: number): Value | undefined {
  if (s.options.symmetricActivations) return undefined;
  const x = node.input(0);
  if (!x || !x.producer || !s.compute.has(x.producer) || x.uses.length !== 1 || x.isGraphOutput) return undefined;
  if (node.opType === 'Clip') {
    const b = clipBounds(node, opset);
    if (!b || b.min > 0 || b.max < 0) return undefined;
  }
  return x;
}

export function planStatic(model: Model, ranges: Map<string, TensorRange>, options: ResolvedStaticOptions, overrides: PlanOverrides = {}): QuantPlan {
  const g = model.graph;
  const opset = model.opset('') ?? 1;
  const types = inferElemTypes(g);
  const s: State = { model, options, ranges, eligible: new Map(), compute: new Set(), shared: new Set(), folds: new Map(), decisions: new Map() };
  const float = (node: Node, detail: string) => s.decisions.set(node, { node: node.name, op: node.opType, action: 'float', detail });

  // The main graph and If branches, in data-flow order; Loop/Scan bodies stay float.
  const order = [...quantizableNodes(g)];
  const inOrder = new Set(order);
  for (const node of g.allNodes()) if (!inOrder.has(node)) float(node, 'inside a Loop/Scan body (its values change per iteration; not calibrated)');
  // A branch the calibration data never took has no ranges: its nodes stay float.
  const unreached = (node: Node, sup: OpSupport) => node.graph !== g
    && [...actInputs(node, sup).map((a) => a.value), node.output(0)].some((v) => !isConstant(v) && !ranges.has(v.name));
  for (const node of order) {
    const forced = overrides.forceFloat?.get(node.name) ?? options.targetFloat?.(node);
    const e = eligibility(node, { types, options, opset });
    if (!e.ok) float(node, e.reason);
    else if (forced !== undefined) float(node, forced);
    else if (unreached(node, e.support)) float(node, 'its If branch did not run on the calibration data (no ranges)');
    else s.eligible.set(node, e.support);
  }

  // Every weighted op is worth quantizing; seed the quantized tensors with their activations.
  const tq = new Set<Value>();
  for (const [node, sup] of s.eligible) {
    if (sup.role !== 'weighted') continue;
    s.compute.add(node);
    for (const { value } of actInputs(node, sup)) if (!isConstant(value)) tq.add(value);
    tq.add(node.output(0));
  }
  // Forward, in topological order: cheap int8 ops join when their inputs are quantized anyway.
  const groups = new UnionFind<Value>();
  for (const node of order) {
    const sup = s.eligible.get(node);
    if (!sup || sup.role === 'weighted') continue;
    if (sup.role === 'qlinear') {
      const acts = actInputs(node, sup);
      const live = acts.filter((a) => !isConstant(a.value));
      if (live.length > 0 && live.every((a) => tq.has(a.value))) {
        s.compute.add(node);
        tq.add(node.output(0));
      } else float(node, 'its inputs are not quantized, so an int8 kernel would only add Q/DQ around it');
    } else if (sup.role === 'scale-sharing') {
      const x = node.input(0)!;
      if (tq.has(x)) {
        s.shared.add(node);
        for (const o of node.outputs) {
          tq.add(o);
          groups.union(x, o);
        }
      } else float(node, 'its input is not quantized');
    } else if (sup.role === 'activation') {
      const x = foldTarget(node, s, opset);
      if (x) {
        s.folds.set(node, x);
        groups.union(x, node.output(0));
        // After the fold the two are one tensor: quantized if either is.
        if (tq.has(node.output(0)) || tq.has(x)) {
          tq.add(x);
          tq.add(node.output(0));
        }
      } else float(node, options.symmetricActivations
        ? 'symmetric activations cannot absorb it (the zero point is not the type minimum)'
        : 'its producer is not a quantized op with a single consumer, and ORT has no standalone int8 kernel for it');
    }
  }

  // Backward: data movement in front of a quantized tensor (Pad/SpaceToDepth of a rewritten stem,
  // a Transpose or Reshape of a graph input) runs on 8-bit data too; the Q moves in front of it.
  for (const node of [...order].reverse()) {
    const sup = s.eligible.get(node);
    if (sup?.role !== 'scale-sharing' || s.shared.has(node)) continue;
    const x = node.input(0)!;
    if (!node.outputs.every((o) => tq.has(o)) || x.constant) continue;
    s.decisions.delete(node);
    s.shared.add(node);
    tq.add(x);
    for (const o of node.outputs) groups.union(x, o);
  }

  // Which tensors a quantized consumer actually reads (through folds and scale-sharing chains).
  const neededMemo = new Map<Value, boolean>();
  const needed = (v: Value): boolean => {
    const m = neededMemo.get(v);
    if (m !== undefined) return m;
    neededMemo.set(v, false);
    let r = false;
    for (const u of v.uses) {
      const sup = s.eligible.get(u.node);
      if (s.compute.has(u.node) && sup && activationInputIndices(sup, u.node.inputs.length).includes(u.index)) r = true;
      else if (s.shared.has(u.node) && u.index === 0 && u.node.outputs.some(needed)) r = true;
      else if (s.folds.get(u.node) === v && needed(u.node.output(0))) r = true;
      if (r) break;
    }
    neededMemo.set(v, r);
    return r;
  };
  // Scale-sharing ops that feed nothing quantized stay float (nothing to gain); reverse order so chains resolve.
  for (const node of [...order].reverse()) {
    if (s.shared.has(node) && !node.outputs.some(needed)) {
      s.shared.delete(node);
      float(node, 'nothing quantized reads its output');
    }
  }
  const floatOutput = new Set<Node>();
  for (const node of s.compute) {
    const sup = s.eligible.get(node)!;
    if (sup.ort?.floatOutputKernel && !needed(node.output(0))) floatOutput.add(node);
  }
  for (const [relu, x] of [...s.folds]) {
    if (floatOutput.has(x.producer!)) {
      s.folds.delete(relu);
      float(relu, `its producer ${x.producer!.name} keeps a float output`);
    }
  }

  // The set of quantized tensors, after folds: a folded Relu's output is its producer's output.
  const quantized = new Set<Value>();
  const producerQuantized = (v: Value) => v.producer !== null && ((s.compute.has(v.producer) && !floatOutput.has(v.producer)) || s.shared.has(v.producer));
  for (const node of s.compute) {
    for (const { value } of actInputs(node, s.eligible.get(node)!)) quantized.add(value);
    if (!floatOutput.has(node)) quantized.add(node.output(0));
  }
  for (const node of s.shared) {
    quantized.add(node.input(0)!);
    for (const o of node.outputs) quantized.add(o);
  }
  for (const [relu, x] of s.folds) {
    quantized.delete(relu.output(0));
    quantized.add(x);
  }
  const reads = (u: Use): boolean => {
    const sup = s.eligible.get(u.node);
    return (s.compute.has(u.node) && sup !== undefined && activationInputIndices(sup, u.node.inputs.length).includes(u.index)) || (s.shared.has(u.node) && u.index === 0);
  };
  const { activations, paramsOf, warnings } = planActivations({
    quantized, groups, folds: s.folds, ranges, opset, options, readsAll: (v) => producerQuantized(v) || isConstant(v), reads,
  });

  const inputParams = (node: Node) => paramsOf.get(groups.find(node.input(0)!))!;
  // ORT quantizes a float bias itself (exactly, at load) when the node's output is quantized. It
  // writes ONNX ops for that (Round, DequantizeLinear with axis) that need opset 13, so older models,
  // 16-bit models and the QOperator form keep explicit int32 biases.
  const eightBit = options.activations === 'uint8' || options.activations === 'int8';
  const floatBias = (node: Node) => options.format === 'qdq' && eightBit && opset >= 13 && !floatOutput.has(node);
  const weightPlan = planWeights([...s.compute].filter((n) => s.eligible.get(n)!.role === 'weighted'), s.eligible, inputParams, floatBias, options);
  warnings.push(...weightPlan.warnings);
  const weightOf = new Map(weightPlan.weights.flatMap((w) => w.uses.map((u) => [u.node, w] as const)));

  // Decisions for the quantized nodes.
  const act = options.activations;
  for (const node of s.compute) {
    const sup = s.eligible.get(node)!;
    const kernel = floatOutput.has(node) ? sup.ort!.floatOutputKernel! : sup.ort?.kernel ?? node.opType;
    const wq = sup.role === 'weighted' ? weightOf.get(node.name) : undefined;
    const w = wq ? `${weightWords({ perChannel: wq.axis !== null, encoding: wq.encoding, channelsAtRisk: wq.channelsAtRisk ?? 0 })}, ` : '';
    const relu = [...s.folds].find(([, x]) => x === node.output(0))?.[0];
    const fusesTo = act === 'uint8' || act === 'int8' ? ` -> ${kernel.replace('com.microsoft.', '')}` : ' (16-bit: ORT runs it in float between Q/DQ)';
    s.decisions.set(node, { node: node.name, op: node.opType, action: 'quantize', detail: `${w}${act} activations${floatOutput.has(node) ? ', float output' : ''}${relu ? `, ${relu.opType} folded` : ''}${fusesTo}` });
  }
  for (const node of s.shared) s.decisions.set(node, { node: node.name, op: node.opType, action: 'share', detail: `runs on ${act} data with its input's scale` });
  for (const [relu, x] of s.folds) s.decisions.set(relu, { node: relu.name, op: relu.opType, action: 'fold', detail: `removed: the ${act} output of ${x.producer!.name} saturates where it clips` });

  const nodes = [...g.allNodes()].map((n) => s.decisions.get(n) ?? { node: n.name, op: n.opType, action: 'float' as const, detail: 'not reached by quantization' });
  const stored = planStored({
    model,
    floatNodes: new Set([...g.allNodes()].filter((n) => (s.decisions.get(n)?.action ?? 'float') === 'float')),
    userKept: (n) => options.exclude.some((p) => excludeMatch(p, n)) || (options.opTypes !== undefined && !options.opTypes.includes(n.opType)),
    constants: options.storeConstants,
    perChannel: options.perChannel,
    ranges,
    ...(options.givenWeights ? { given: options.givenWeights } : {}),
  });
  noteStoredWeights(nodes, stored);
  return {
    schema: 'slimnet.quant-plan/1',
    format: options.format,
    qdqDomain: qdqDomainFor(model, options),
    activations,
    weights: weightPlan.weights,
    biases: weightPlan.biases,
    folds: [...s.folds].map(([relu, x]) => ({ node: relu.name, op: relu.opType, into: x.producer!.name })),
    stored,
    nodes,
    notes: [],
    warnings,
  };
}

/** Float nodes whose weight is stored as int8 say so in their reason. */
function noteStoredWeights(nodes: NodePlan[], stored: QuantPlan['stored']): void {
  const byNode = new Map<string, number>();
  for (const c of stored) for (const u of c.uses) if (u.input === 1 && c.weight) byNode.set(u.node, c.sqnrDb);
  for (const n of nodes) {
    if (n.action === 'float' && byNode.has(n.node)) n.detail += '; its weight is stored as int8 and decoded to float when ONNX Runtime loads the model';
  }
}
