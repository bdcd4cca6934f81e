/**
 * What the parts of a plan cost, in int8 and in float, from two node profiles (node-profile.ts):
 * the candidate model and the float model. Every node ORT ran is charged to a node of the planned
 * (pre-processed) model, or to a quantized tensor for its Q/DQ nodes:
 * - int8 model: fused kernels keep the planned node's name (ORT appends '_token_N' when it moves
 *   them to NHWC); Q/DQ nodes are named after their tensor, or weight node, before profiling
 *   (labelQdqNodes);
 * - float model: nodes keep their names; NCHWc convolutions are named after their output tensor
 *   ('<tensor>_nchwc'), which leads to the node that produces it; an activation ORT fused into
 *   the Conv before it is charged to that Conv, in both models alike;
 * - nodes ORT added (layout Transposes, NCHWc reorders) are charged to the nearest named node in
 *   ORT's graph, preferring a planned (int8) one: they exist because of its layout.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import type { NodeProfile } from './node-profile.js';
import type { Regions } from './regions.js';

const TENSOR = 'slimnet~t~';
const NODE = 'slimnet~n~';

/** Cost keys: a planned node ('n:<name>'), a quantized tensor's Q/DQ ('t:<name>'), or the rest. */
export const nodeKey = (name: string) => `n:${name}`;
export const tensorKey = (name: string) => `t:${name}`;
const REST = 'rest';

/** Names every unnamed Q/DQ node after the tensor it quantizes (activations) or the node it feeds (weights). */
export function labelQdqNodes(model: Model): void {
  let k = 0;
  for (const n of model.graph.allNodes()) {
    if (n.name || (n.opType !== 'QuantizeLinear' && n.opType !== 'DequantizeLinear')) continue;
    const x = n.input(0);
    const tensor = n.opType === 'QuantizeLinear' ? x?.name : x?.producer?.opType === 'QuantizeLinear' ? x.producer.input(0)?.name : undefined;
    const reader = n.output(0).uses[0]?.node.name;
    n.name = tensor !== undefined ? `${TENSOR}${tensor}~${k++}` : `${NODE}${reader ?? ''}~${k++}`;
  }
}

const stripToken = (name: string) => name.replace(/(_token_\d+)+$/, '');
const unlabel = (name: string) => name.slice(0, name.lastIndexOf('~'));

/**
 * The cost key an ORT node stands for, when its name tells. `origin` maps node names to themselves
 * and tensor names to the node that produces them, in the planned model.
 */
function directKey(n: Node, origin: Map<string, Node>, planned: (name: string) => boolean): string | undefined {
  let name = stripToken(n.name);
  if (name.startsWith(TENSOR)) return tensorKey(unlabel(name.slice(TENSOR.length)));
  if (name.startsWith(NODE)) return nodeKey(unlabel(name.slice(NODE.length)));
  if (!origin.has(name) && name.endsWith('_nchwc')) name = name.slice(0, -'_nchwc'.length);
  const node = origin.get(name);
  if (!node) return undefined;
  const before = node.inputs.length === 1 ? node.input(0)?.producer : undefined;
  if (!planned(node.name) && before && planned(before.name)) return nodeKey(before.name);
  return nodeKey(node.name);
}

/** Charges every profiled ORT node to a cost key; returns ms per key. */
export function chargeCosts(profile: NodeProfile, pre: Model, planned: (name: string) => boolean): Map<string, number> {
  const origin = new Map<string, Node>();
  for (const n of pre.graph.allNodes()) for (const o of n.outputs) origin.set(o.name, n);
  for (const n of pre.graph.allNodes()) if (n.name) origin.set(n.name, n);
  const isPlannedKey = (k: string) => k.startsWith('t:') || planned(k.slice(2));
  const byName = new Map<string, Node>();
  for (const n of profile.optimized.graph.allNodes()) byName.set(n.name, n);
  const resolve = (start: Node): string => {
    // Breadth-first through ORT's graph; at the first depth with named nodes, a planned one wins.
    let frontier = [start];
    const seen = new Set<Node>(frontier);
    for (let depth = 0; depth < 4 && frontier.length; depth++) {
      const hits = frontier.map((n) => directKey(n, origin, planned)).filter((k): k is string => k !== undefined);
      if (hits.length) return hits.find(isPlannedKey) ?? hits[0]!;
      const next: Node[] = [];
      for (const n of frontier) {
        const near = [...n.inputs.map((v) => v?.producer ?? null), ...n.outputs.flatMap((v) => v.uses.map((u) => u.node))];
        for (const m of near) if (m && !seen.has(m)) { seen.add(m); next.push(m); }
      }
      frontier = next;
    }
    return REST;
  };
  const costs = new Map<string, number>();
  for (const [name, ms] of profile.times) {
    const n = byName.get(name);
    const key = n ? resolve(n) : REST;
    costs.set(key, (costs.get(key) ?? 0) + ms);
  }
  return costs;
}

/** ms per region id: its nodes and the Q/DQ of its tensors. */
export function regionCosts(costs: Map<string, number>, regions: Regions): Map<number, number> {
  const out = new Map<number, number>();
  for (const [key, ms] of costs) {
    const id = key.startsWith('t:') ? regions.ofTensor.get(key.slice(2)) : key.startsWith('n:') ? regions.ofNode.get(key.slice(2)) : undefined;
    if (id !== undefined) out.set(id, (out.get(id) ?? 0) + ms);
  }
  return out;
}
