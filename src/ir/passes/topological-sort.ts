/**
 * Orders nodes so every value is produced before it is used, in every graph. Stable: nodes keep
 * their original relative order wherever dependencies allow, so diffs of rewritten models stay small.
 */
import type { Graph } from '../graph.js';
import type { Node } from '../node.js';
import type { Model } from '../model.js';
import type { Value } from '../value.js';
import type { Pass } from './pass.js';

/** Values a node reads, including those its subgraphs read from enclosing scopes. */
export function nodeReads(node: Node): Set<Value> {
  const reads = new Set<Value>();
  for (const v of node.inputs) if (v) reads.add(v);
  for (const sg of node.subgraphs()) {
    for (const inner of sg.allNodes()) for (const v of inner.inputs) if (v) reads.add(v);
    for (const v of sg.outputs) reads.add(v);
  }
  return reads;
}

export function sortGraph(g: Graph): boolean {
  const nodes = g.nodes;
  const index = new Map<Node, number>();
  nodes.forEach((n, i) => index.set(n, i));
  const indegree = new Map<Node, number>();
  const dependents = new Map<Node, Node[]>();
  for (const n of nodes) {
    const deps = new Set<Node>();
    for (const v of nodeReads(n)) {
      const p = v.producer;
      if (p && p !== n && index.has(p)) deps.add(p);
    }
    indegree.set(n, deps.size);
    for (const d of deps) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(n);
    }
  }
  // A binary heap keyed by original index keeps the order stable.
  const heap: Node[] = [];
  const push = (n: Node) => {
    heap.push(n);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (index.get(heap[p]!)! <= index.get(heap[i]!)!) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const pop = (): Node => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && index.get(heap[l]!)! < index.get(heap[m]!)!) m = l;
        if (r < heap.length && index.get(heap[r]!)! < index.get(heap[m]!)!) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  for (const n of nodes) if (indegree.get(n) === 0) push(n);
  const order: Node[] = [];
  while (heap.length) {
    const n = pop();
    order.push(n);
    for (const d of dependents.get(n) ?? []) {
      const k = indegree.get(d)! - 1;
      indegree.set(d, k);
      if (k === 0) push(d);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => !order.includes(n))!;
    throw new Error(`graph '${g.name}' has a cycle through node ${stuck.label()}`);
  }
  const changed = order.some((n, i) => n !== nodes[i]);
  if (changed) g.reorder(order);
  let sub = false;
  for (const n of order) for (const sg of n.subgraphs()) sub = sortGraph(sg) || sub;
  return changed || sub;
}

export const topologicalSort: Pass = {
  name: 'topological-sort',
  run: (model: Model) => sortGraph(model.graph),
};
