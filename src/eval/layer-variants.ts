/**
 * Variants of a QDQ model with some layers' quantization bypassed, for one-at-a-time sensitivity:
 * a bypassed layer reads the float tensor its activation Q consumed instead of the DQ output, and
 * the float original of its weights (when the reference model has it) instead of the weight DQ.
 * With every layer bypassed this is the model's float twin: same graph, same names, no rounding.
 */
import { cloneModel } from '../ir/clone.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Tensor } from '../ir/tensor.js';
import { removeUnused } from '../ir/passes/remove-unused.js';
import type { QdqStructure, QuantLayer, Quantizer } from './qdq-structure.js';

/** Float weight per weight quantizer, found in the reference model. */
export type FloatWeights = Map<Quantizer, Tensor>;

/**
 * Float originals of the weights: the reference node that produces the same output value as the
 * layer, with the same op type, whose input at the same index is a float constant of the same
 * shape. A layer whose reference counterpart differs (e.g. BatchNorm folded into the quantized
 * Conv) has no match, and its weight error is estimated from the scale instead.
 */
export function matchFloatWeights(structure: QdqStructure, reference: Model): FloatWeights {
  const producers = new Map<string, Node>();
  for (const n of reference.graph.nodes) for (const o of n.outputs) if (o.name) producers.set(o.name, n);
  const found: FloatWeights = new Map();
  for (const layer of structure.layers) {
    const twin = producers.get(layer.node.output(0).name);
    if (!twin || twin.opType !== layer.node.opType) continue;
    for (const { index, quantizer } of layer.inputs) {
      if (quantizer.kind !== 'weight') continue;
      const t = twin.input(index)?.constant;
      if (t && t.dataType === 1 && t.dims.join(',') === quantizer.integer!.dims.join(',')) found.set(quantizer, t);
    }
  }
  return found;
}

/** A copy of `model` in which only the layers for which `keep` is true stay quantized. */
export function withQuantizedLayers(model: Model, structure: QdqStructure, keep: (layer: QuantLayer) => boolean, floatWeights: FloatWeights): Model {
  const copy = cloneModel(model);
  const nodes = copy.graph.nodes;
  const position = new Map<Node, number>();
  model.graph.nodes.forEach((n, i) => position.set(n, i));
  let changed = false;
  for (const layer of structure.layers) {
    if (keep(layer)) continue;
    const node = nodes[layer.position]!;
    for (const { index, quantizer } of layer.inputs) {
      if (quantizer.kind === 'activation') {
        const q = nodes[position.get(quantizer.quantize!)!]!;
        node.replaceInput(index, q.input(0));
        changed = true;
      } else if (quantizer.kind === 'weight') {
        const w = floatWeights.get(quantizer);
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
