/** Which tensors statistics can be collected on, and the default sets calibration covers. */
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import type { Node } from '../../ir/node.js';
import { dataTypeInfo } from '../../ir/data-type.js';
import { OptionError } from '../../errors.js';
import { opSupport } from '../../ops/op-support.js';

/** Ops whose outputs are never float activations worth a range (shapes, indices, masks). */
const NON_ACTIVATION_OPS = new Set(['Constant', 'Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'ConstantOfShape', 'Range', 'TopK', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

function mainGraphValues(model: Model): Map<string, Value> {
  const byName = new Map<string, Value>();
  const g = model.graph;
  for (const v of g.inputs) byName.set(v.name, v);
  for (const v of g.initializers.values()) byName.set(v.name, v);
  for (const n of g.nodes) for (const o of n.outputs) if (o.name) byName.set(o.name, o);
  return byName;
}

/** Known float, or unknown (checked when the first batch comes back). */
function maybeFloat(v: Value): boolean {
  return v.elemType === undefined || dataTypeInfo(v.elemType).isFloat;
}

/**
 * Which tensors to calibrate by default:
 * - 'all': every float activation of the main graph (graph inputs and node outputs, minus shape and
 *   index computations, and minus a Conv output that only feeds a BatchNormalization: ONNX Runtime
 *   folds the two, so that tensor never exists in the model that runs, and observing it would keep
 *   the fusion from happening). A superset of what a quantizer needs once BatchNorm is folded;
 *   values inside If/Loop bodies cannot be fetched. Name a tensor explicitly to calibrate it anyway.
 * - 'quantizable': the tensors a static quantizer places Q/DQ on, read from the op-support table:
 *   activation inputs and outputs of weighted and int8-kernel ops, Relu/Clip outputs (their input's
 *   range is folded into them when they are its only consumer), and nothing for scale-sharing ops
 *   (Reshape, MaxPool, ...) whose output reuses its input's range. A Conv output that only feeds a
 *   BatchNormalization is skipped for the normalized one: ONNX Runtime folds the two, so the first
 *   tensor never exists in the model that runs. Observing fewer tensors also leaves ONNX Runtime's
 *   fusions (Conv+BatchNormalization+Relu) intact, so calibration runs much faster.
 */
export function defaultCalibrationTensors(model: Model, scope: 'all' | 'quantizable' = 'all'): string[] {
  return scope === 'all' ? allActivations(model) : quantizableActivations(model);
}

function allActivations(model: Model): string[] {
  const g = model.graph;
  const out: string[] = [];
  for (const v of g.inputs) if (!v.isInitializer && maybeFloat(v)) out.push(v.name);
  for (const n of g.nodes) {
    if (NON_ACTIVATION_OPS.has(n.opType)) continue;
    for (const o of n.outputs) if (o.name && maybeFloat(o) && !foldedAway(n, o)) out.push(o.name);
  }
  return [...new Set(out)];
}

/** A producer output that ONNX Runtime folds away (Conv -> BatchNormalization): it never exists in the model that runs. */
function foldedAway(n: Node, out: Value): boolean {
  return effectiveOutput(n, out) !== out;
}

const isActivationOp = (n: Node) => opSupport(n.opType, n.domain)?.role === 'activation';

/** The tensor a producer's output becomes after ONNX Runtime folds its sole consumer into it (Conv -> BatchNormalization). */
function effectiveOutput(n: Node, out: Value): Value {
  // The fused node keeps the producer's op type, so a chain (Conv -> BN -> BN) folds step by step.
  let v = out;
  for (;;) {
    const consumers = v.consumers();
    const next = consumers.length === 1 && !v.isGraphOutput ? consumers[0]! : undefined;
    if (!next || !opSupport(next.opType, next.domain)?.foldsInto?.includes(n.opType)) return v;
    v = next.outputs[0]!;
  }
}

function quantizableActivations(model: Model): string[] {
  const g = model.graph;
  const wanted = new Set<string>();
  const want = (v: Value | null | undefined) => {
    if (v && v.name && !v.constant && maybeFloat(v)) wanted.add(v.name);
  };
  for (const n of g.nodes) {
    const s = opSupport(n.opType, n.domain);
    if (!s || s.role === 'none') continue;
    const out = n.outputs[0];
    if (s.role === 'scale-sharing') {
      want(n.inputs[0]);
      continue;
    }
    if (s.role === 'activation') {
      want(out);
      const input = n.inputs[0];
      // The input's range is folded into the activation only when this is its sole consumer.
      if (input && (input.consumers().length > 1 || input.isGraphOutput || !input.producer)) want(input);
      continue;
    }
    const inputs = s.activationInputs === 'all' ? n.inputs.map((_, i) => i) : (s.activationInputs ?? [0]);
    for (const i of inputs) want(n.inputs[i]);
    if (!out) continue;
    const effective = effectiveOutput(n, out);
    const consumers = effective.consumers();
    const foldedIntoActivation = consumers.length === 1 && isActivationOp(consumers[0]!) && !effective.isGraphOutput;
    if (!foldedIntoActivation) want(effective);
  }
  // Keep graph order: inputs first, then node outputs.
  const order = [...g.inputs.map((v) => v.name), ...g.nodes.flatMap((n) => n.outputs.map((o) => o.name))];
  return order.filter((n) => wanted.has(n));
}

/** Splits requested tensor names into graph inputs and intermediate values; unknown names and weights are errors. */
export function resolveTensors(model: Model, names: Iterable<string>): { inputs: string[]; intermediates: string[] } {
  const byName = mainGraphValues(model);
  const inputs: string[] = [];
  const intermediates: string[] = [];
  for (const name of new Set(names)) {
    const v = byName.get(name);
    if (!v) throw new OptionError(`${model.label()}: no tensor named '${name}' in the main graph (statistics can be collected on graph inputs and node outputs; values inside If/Loop bodies are not reachable)`);
    if (v.isInitializer) throw new OptionError(`${model.label()}: '${name}' is a weight (initializer), not an activation; read weights from the model instead of calibrating them`);
    if (v.isGraphInput) inputs.push(name);
    else intermediates.push(name);
  }
  return { inputs, intermediates };
}

/** Ops whose outputs are never negative. */
const NON_NEGATIVE_OPS = new Set(['Relu', 'Sigmoid', 'Softmax', 'Abs', 'Exp', 'Sqrt', 'Softplus']);

/**
 * Outputs that are non-negative by construction (Relu, Sigmoid, Softmax, ..., Clip with a lower
 * bound >= 0): their ranges start at 0 whatever their minimum, so the probe skips computing it.
 */
export function nonNegativeTensors(model: Model): Set<string> {
  const out = new Set<string>();
  for (const n of model.graph.nodes) {
    const o = n.outputs[0];
    if (!o || n.domain !== '') continue;
    if (NON_NEGATIVE_OPS.has(n.opType)) out.add(o.name);
    if (n.opType === 'Clip') {
      // Opset 11+ gives the bound as input 1, earlier opsets as the 'min' attribute.
      const lower = n.inputs[1] ? n.inputs[1].constant?.toFloat32()[0] : n.getFloat('min');
      if (lower !== undefined && lower >= 0) out.add(o.name);
    }
  }
  return out;
}
