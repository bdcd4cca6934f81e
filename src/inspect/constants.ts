/** Finds every constant tensor a model stores, once each, with where it lives and what it feeds. */
import type { Model } from '../ir/model.js';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { AttrType } from '../ir/attribute.js';
import { constantNodeTensor } from '../ir/passes/constants-to-initializers.js';

export type ConstantPlace = 'initializer' | 'constant-node' | 'sparse-initializer' | 'attribute';

export interface ConstantEntry {
  tensor: Tensor;
  place: ConstantPlace;
  /** Name of the initializer / Constant output (or the node owning the attribute). */
  name: string;
  /** The graph it is defined in ('' for the main graph). */
  graph: string;
  /** The value carrying it (not for attribute tensors of other ops). */
  value?: Value;
}

function constantNodeTensors(n: Node): Tensor[] {
  const out: Tensor[] = [];
  for (const a of n.attributes.values()) {
    if (a.type === AttrType.TENSOR) out.push(a.value);
    else if (a.type === AttrType.SPARSE_TENSOR) out.push(a.value.values, a.value.indices);
  }
  return out;
}

/**
 * Every stored tensor once: initializers (also those listed as graph inputs by IR < 4 files),
 * sparse initializers, Constant nodes and tensors in other attributes, in all graphs and functions.
 * `value_float(s)` / `value_int(s)` Constants count as one tensor of their length.
 */
export function collectConstants(model: Model): ConstantEntry[] {
  const seen = new Set<Tensor>();
  const out: ConstantEntry[] = [];
  const add = (e: ConstantEntry) => {
    if (seen.has(e.tensor)) return;
    seen.add(e.tensor);
    out.push(e);
  };
  const visit = (g: Graph, graphLabel: string) => {
    for (const v of g.initializers.values()) add({ tensor: v.constValue!, place: 'initializer', name: v.name, graph: graphLabel, value: v });
    for (const v of g.sparseInitializers) {
      add({ tensor: v.sparseValue!.values, place: 'sparse-initializer', name: v.name, graph: graphLabel, value: v });
      add({ tensor: v.sparseValue!.indices, place: 'sparse-initializer', name: `${v.name}.indices`, graph: graphLabel, value: v });
    }
    for (const n of g.nodes) {
      if (n.opType === 'Constant' && n.domain === '') {
        // value_float(s) / value_int(s) Constants hold numbers, not tensors: count them as tensors too.
        const tensors = constantNodeTensors(n);
        const asTensor = tensors.length ? tensors : [constantNodeTensor(n)].filter((t): t is Tensor => t !== undefined);
        for (const t of asTensor) add({ tensor: t, place: 'constant-node', name: n.outputs[0]?.name ?? n.name, graph: graphLabel, value: n.outputs[0] });
      } else {
        for (const t of constantNodeTensors(n)) add({ tensor: t, place: 'attribute', name: n.name || n.opType, graph: graphLabel });
      }
      for (const a of n.attributes.values()) {
        if (a.type === AttrType.GRAPH) visit(a.value, `${n.name || n.opType}.${a.name}`);
        else if (a.type === AttrType.GRAPHS) a.value.forEach((sg, i) => visit(sg, `${n.name || n.opType}.${a.name}[${i}]`));
      }
    }
  };
  visit(model.graph, '');
  for (const f of model.functions) visit(f.body, `function ${f.domain}.${f.name}`);
  return out;
}

/** The constant (initializer or Constant node) a node input carries, if any. */
export function constantInput(node: Node, index: number): Tensor | undefined {
  return node.input(index)?.constant;
}
