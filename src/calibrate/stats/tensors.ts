/** Which tensors statistics can be collected on, and the default set calibration covers. */
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import { dataTypeInfo } from '../../ir/data-type.js';
import { OptionError } from '../../errors.js';

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
 * Every float activation of the main graph: float graph inputs and node outputs, minus outputs of
 * ops that compute shapes or indices. Values inside subgraphs (If/Loop bodies) cannot be fetched.
 */
export function defaultCalibrationTensors(model: Model): string[] {
  const g = model.graph;
  const out: string[] = [];
  for (const v of g.inputs) if (!v.isInitializer && maybeFloat(v) && v.elemType !== undefined) out.push(v.name);
  for (const n of g.nodes) {
    if (NON_ACTIVATION_OPS.has(n.opType)) continue;
    for (const o of n.outputs) if (o.name && maybeFloat(o)) out.push(o.name);
  }
  return [...new Set(out)];
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
