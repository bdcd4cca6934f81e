/**
 * Calibrating tensors inside If branches. ONNX Runtime can only return main-graph values, so a
 * probe copy of the model carries each wanted branch tensor out as an extra If output (the other
 * branch returns an empty tensor there, which adds nothing to a range) and from there as a graph
 * output. Nested Ifs are unwound level by level. Loop and Scan bodies are not probed: their values
 * change per iteration and they stay in float.
 */
import { Node } from '../../ir/node.js';
import { Value } from '../../ir/value.js';
import { Tensor } from '../../ir/tensor.js';
import { DataType } from '../../ir/data-type.js';
import type { Graph } from '../../ir/graph.js';
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { tensorType } from '../../ir/types.js';
import { AttrType } from '../../ir/attribute.js';

/** Nodes in data-flow order: each If's branch nodes right after the If, Loop/Scan bodies left out. */
export function* quantizableNodes(g: Graph): Generator<Node> {
  for (const n of g.nodes) {
    yield n;
    if (n.opType === 'If' && n.domain === '') for (const sg of n.subgraphs()) yield* quantizableNodes(sg);
  }
}

/** Graphs whose values can be calibrated: the main graph and If branches (recursively), not loop bodies. */
export function* probeableGraphs(g: Graph): Generator<Graph> {
  yield g;
  for (const n of g.nodes) {
    if (n.opType !== 'If' || n.domain !== '') continue;
    for (const sg of n.subgraphs()) yield* probeableGraphs(sg);
  }
}

export interface Probe {
  model: Model;
  /** Main-graph output name in the probe -> the branch tensor it carries. */
  aliases: Map<string, string>;
}

/** Adds `inner` (a value of one branch of `ifNode`) as an output of the If; returns that output. */
function liftOut(model: Model, ifNode: Node, branch: Graph, inner: Value): Value {
  for (const sg of ifNode.subgraphs()) {
    if (sg === branch) {
      // Through an Identity: the value may already be a branch output (of the If's own results).
      const copy = new Value(model.names.fresh(`${inner.name}__copy`));
      sg.append(new Node('Identity', [inner], [copy], { name: model.names.fresh(`${inner.name}__lift`) }));
      sg.outputs.push(copy);
      continue;
    }
    const empty = new Value(model.names.fresh(`${inner.name}__empty`), tensorType(DataType.FLOAT, [0]));
    sg.append(new Node('Constant', [], [empty], { name: model.names.fresh(`${inner.name}__empty_const`), attributes: [{ name: 'value', type: AttrType.TENSOR, value: Tensor.float([0], []) }] }));
    sg.outputs.push(empty);
  }
  const out = new Value(model.names.fresh(`${inner.name}__lifted`), tensorType(DataType.FLOAT));
  ifNode.appendOutput(out);
  return out;
}

/**
 * A copy of `model` in which every named float value of an If branch is also a main-graph output.
 * `wanted` are value names (main-graph names pass through unchanged).
 */
export function buildProbe(model: Model, wanted: Iterable<string>): Probe {
  const probe = cloneModel(model);
  const want = new Set(wanted);
  const aliases = new Map<string, string>();
  const lift = (g: Graph, v: Value, original: string): void => {
    const ifNode = g.parent;
    if (!ifNode || !ifNode.graph) {
      if (!g.outputs.includes(v)) g.outputs.push(v);
      aliases.set(v.name, original);
      return;
    }
    lift(ifNode.graph, liftOut(probe, ifNode, g, v), original);
  };
  for (const g of probeableGraphs(probe.graph)) {
    if (g === probe.graph) continue;
    for (const n of [...g.nodes]) for (const o of n.outputs) if (want.has(o.name)) lift(g, o, o.name);
  }
  return { model: probe, aliases };
}
