/**
 * Turns Constant nodes that hold a tensor into initializers. Exporters such as paddle2onnx keep
 * every weight in a Constant node; quantization, pruning and weight analysis look for initializers,
 * so they run this first. Constants inside subgraphs become initializers of that subgraph.
 */
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import { Tensor } from '../tensor.js';
import { AttrType } from '../attribute.js';
import type { Pass } from './pass.js';

/** The tensor a Constant node produces, for every attribute form (value, value_float(s), value_int(s)). */
export function constantNodeTensor(node: import('../node.js').Node): Tensor | undefined {
  const a = [...node.attributes.values()][0];
  if (!a || node.attributes.size !== 1) return undefined;
  switch (a.name) {
    case 'value': return a.type === AttrType.TENSOR ? a.value : undefined;
    case 'value_float': return a.type === AttrType.FLOAT ? Tensor.float([], [a.value]) : undefined;
    case 'value_floats': return a.type === AttrType.FLOATS ? Tensor.float([a.value.length], a.value) : undefined;
    case 'value_int': return a.type === AttrType.INT ? Tensor.int64([], [a.value]) : undefined;
    case 'value_ints': return a.type === AttrType.INTS ? Tensor.int64([a.value.length], a.value) : undefined;
    default: return undefined; // sparse_value and string forms stay as Constant nodes
  }
}

export function constantsToInitializersIn(g: Graph): boolean {
  let changed = false;
  for (const node of [...g.nodes]) {
    for (const sg of node.subgraphs()) changed = constantsToInitializersIn(sg) || changed;
    if (node.opType !== 'Constant' || node.domain !== '') continue;
    const tensor = constantNodeTensor(node);
    const out = node.outputs[0];
    if (!tensor || !out || g.outputs.includes(out)) continue;
    const value = out;
    // Detach the node but keep its output value: it becomes the initializer with the same name and uses.
    g.remove(node, { force: true });
    value.producer = null;
    value.producerIndex = -1;
    value.type = undefined;
    g.addInitializer(value, tensor.name === value.name ? tensor : tensor.reshaped(tensor.dims));
    changed = true;
  }
  return changed;
}

export const constantsToInitializers: Pass = {
  name: 'constants-to-initializers',
  run: (model: Model) => constantsToInitializersIn(model.graph),
};
