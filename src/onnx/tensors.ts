/** Visiting every tensor a model stores: initializers, Constant/attribute tensors, sparse parts, in all graphs and functions. */
import type { Model } from '../ir/model.js';
import type { Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { AttrType } from '../ir/attribute.js';

export function forEachTensor(model: Model, fn: (t: Tensor) => void): void {
  const visitGraph = (g: Graph) => {
    for (const v of g.initializers.values()) fn(v.constValue!);
    for (const v of g.sparseInitializers) { fn(v.sparseValue!.values); fn(v.sparseValue!.indices); }
    for (const n of g.nodes) {
      for (const a of n.attributes.values()) {
        if (a.type === AttrType.TENSOR) fn(a.value);
        else if (a.type === AttrType.TENSORS) a.value.forEach(fn);
        else if (a.type === AttrType.SPARSE_TENSOR) { fn(a.value.values); fn(a.value.indices); }
        else if (a.type === AttrType.SPARSE_TENSORS) for (const s of a.value) { fn(s.values); fn(s.indices); }
        else if (a.type === AttrType.GRAPH) visitGraph(a.value);
        else if (a.type === AttrType.GRAPHS) a.value.forEach(visitGraph);
      }
    }
  };
  visitGraph(model.graph);
  for (const f of model.functions) visitGraph(f.body);
}

/** Bytes of every stored tensor (initializers, Constant and attribute tensors, all subgraphs and functions): what dominates a model file. */
export function storedTensorBytes(model: Model): number {
  let total = 0;
  forEachTensor(model, (t) => { total += t.byteLength; });
  return total;
}
