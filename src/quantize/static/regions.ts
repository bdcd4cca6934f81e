/**
 * Int8 regions of a plan: the connected parts of the graph that run on 8-bit data. Two quantized
 * nodes are in one region when a quantized tensor joins them (one's output Q feeds the other's DQ,
 * or both read the same Q); a folded Relu joins its producer. A region is the unit the placement
 * search keeps or reverts: reverting part of one would leave its Q/DQ pairs in place and save
 * nothing. Q/DQ nodes belong to the region of the tensor they quantize.
 */
import type { Model } from '../../ir/model.js';
import type { QuantPlan } from './plan.js';
import { UnionFind } from './plan-activations.js';

export interface Region {
  id: number;
  /** Planned nodes (quantize, share, fold) of the region, in graph order. */
  nodes: string[];
  /** The nodes that get int8 kernels (action 'quantize'). */
  compute: string[];
}

export interface Regions {
  regions: Region[];
  /** Planned node name -> region id. */
  ofNode: Map<string, number>;
  /** Quantized tensor (float name in the planned model) -> region id. */
  ofTensor: Map<string, number>;
}

export function planRegions(model: Model, plan: QuantPlan): Regions {
  const action = new Map(plan.nodes.map((n) => [n.node, n.action]));
  const inPlan = (name: string | undefined) => name !== undefined && (action.get(name) ?? 'float') !== 'float';
  const uf = new UnionFind<string>();
  const values = new Map<string, { producer?: string; readers: string[] }>();
  for (const g of model.graph.allGraphs()) {
    for (const v of g.values()) values.set(v.name, { ...(v.producer?.name ? { producer: v.producer.name } : {}), readers: v.uses.map((u) => u.node.name) });
  }
  const tensorAnchor = new Map<string, string>();
  for (const a of plan.activations) {
    const info = values.get(a.tensor);
    const members = [info?.producer, ...(a.readers === 'all' ? info?.readers ?? [] : a.readers.map((r) => r.node))].filter(inPlan) as string[];
    for (const m of members) {
      uf.union(members[0]!, m);
    }
    if (members[0]) tensorAnchor.set(a.tensor, members[0]);
  }
  // A folded Relu/Clip disappears: its readers read the producer's quantized output.
  const nodeByName = new Map<string, { outputs: string[] }>();
  for (const n of model.graph.allNodes()) nodeByName.set(n.name, { outputs: n.outputs.map((o) => o.name) });
  for (const f of plan.folds) {
    uf.union(f.into, f.node);
    for (const out of nodeByName.get(f.node)?.outputs ?? []) for (const r of values.get(out)?.readers ?? []) if (inPlan(r)) uf.union(f.node, r);
  }

  const ids = new Map<string, number>();
  const regions: Region[] = [];
  const ofNode = new Map<string, number>();
  for (const n of plan.nodes) {
    if (n.action === 'float') continue;
    const root = uf.find(n.node);
    let id = ids.get(root);
    if (id === undefined) {
      id = regions.length;
      ids.set(root, id);
      regions.push({ id, nodes: [], compute: [] });
    }
    regions[id]!.nodes.push(n.node);
    if (n.action === 'quantize') regions[id]!.compute.push(n.node);
    ofNode.set(n.node, id);
  }
  const ofTensor = new Map<string, number>();
  for (const [tensor, anchor] of tensorAnchor) ofTensor.set(tensor, ofNode.get(anchor)!);
  return { regions, ofNode, ofTensor };
}
