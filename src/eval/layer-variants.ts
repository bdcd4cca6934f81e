/**
 * Variants of a QDQ model with some layers' quantization bypassed, for one-at-a-time sensitivity:
 * a bypassed layer reads the float tensor its activation Q consumed instead of the DQ output, and
 * the float original of its weights (when the reference model has it) instead of the weight DQ;
 * a Relu/Clip the quantizer had folded into its range comes back as a float node.
 * With every layer bypassed this is the model's float twin: same graph, same names, no rounding.
 */
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import { Node } from '../ir/node.js';
import { Tensor } from '../ir/tensor.js';
import { floatAttr, type Attribute } from '../ir/attribute.js';
import { Value } from '../ir/value.js';
import { removeUnused } from '../ir/passes/remove-unused.js';
import type { QdqStructure, QuantLayer, Quantizer } from './qdq-structure.js';
import type { FloatCounterparts, FoldedActivation } from './float-counterparts.js';

/** A copy of `model` in which only the layers for which `keep` is true stay quantized. */
export function withQuantizedLayers(model: Model, structure: QdqStructure, keep: (layer: QuantLayer) => boolean, counterparts: FloatCounterparts): Model {
  const copy = cloneModel(model);
  const nodes = [...copy.graph.nodes];
  const unfolded = new Map<Quantizer, Value>();
  const position = new Map<Node, number>();
  model.graph.nodes.forEach((n, i) => position.set(n, i));
  let changed = false;
  for (const layer of structure.layers) {
    if (keep(layer)) continue;
    const node = nodes[layer.position]!;
    for (const { index, quantizer } of layer.inputs) {
      if (quantizer.kind === 'activation') {
        const x = nodes[position.get(quantizer.quantize!)!]!.input(0)!;
        const fold = counterparts.folds.get(quantizer);
        let v = x;
        if (fold) {
          v = unfolded.get(quantizer) ?? insertActivation(copy, node, x, fold);
          unfolded.set(quantizer, v);
        }
        node.replaceInput(index, v);
        changed = true;
      } else if (quantizer.kind === 'weight') {
        const w = counterparts.weights.get(quantizer);
        if (!w) continue; // no float original: the dequantized weight is the best float stand-in
        // A view of the reference tensor (shared bytes, own name): tensors are never mutated in place.
        const v = copy.graph.addInitializer(copy.names.fresh(`${quantizer.integer!.name || 'weight'}_float`), w.reshaped([...w.dims]));
        node.replaceInput(index, v);
        changed = true;
      }
      // Biases stay behind their DQ: int32 with scale x_scale·w_scale dequantizes almost exactly.
    }
  }
  if (changed) removeUnused.run(copy);
  return copy;
}

/** Relu(x) or Clip(x, min, max) in float, placed before `before` (layers are visited in graph order). */
function insertActivation(model: Model, before: Node, x: Value, fold: FoldedActivation): Value {
  const g = model.graph;
  const out = new Value(model.names.fresh(`${x.name}_${fold.op.toLowerCase()}`));
  const inputs: (Value | null)[] = [x];
  const attributes: Attribute[] = [];
  if (fold.op === 'Clip' && (model.opsetImports.get('') ?? 21) < 11) {
    // Clip-6 takes its bounds as FLOAT attributes; a plain number 0 or 6 would be written as INT.
    if (Number.isFinite(fold.min)) attributes.push(floatAttr('min', fold.min));
    if (Number.isFinite(fold.max)) attributes.push(floatAttr('max', fold.max));
  } else if (fold.op === 'Clip') {
    const bound = (v: number, what: string) => (Number.isFinite(v) ? g.addInitializer(model.names.fresh(`${x.name}_clip_${what}`), Tensor.float([], [v])) : null);
    inputs.push(bound(fold.min, 'min'), bound(fold.max, 'max'));
  }
  g.insertBefore(before, new Node(fold.op, inputs, [out], { name: model.names.fresh(`${x.name}_${fold.op}`), attributes }));
  return out;
}
