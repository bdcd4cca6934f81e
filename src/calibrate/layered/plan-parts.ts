/**
 * Where to cut a model's main graph for layer-by-layer calibration. Each part holds about `budget`
 * bytes of weights; within a window past that (up to 4x), the cut goes where the fewest
 * data-carrying activations cross it (the first of equals). In a decoder that is just after a
 * residual Add, where only the hidden state crosses: never inside attention or an MLP, whose
 * projections then stay in one part together with the ops AWQ folds their scales into.
 */
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { nodeReads } from '../../ir/passes/topological-sort.js';

export interface Part {
  /** Main-graph nodes, in graph order. */
  nodes: Node[];
  /** Values the part reads from graph inputs and earlier parts (initializers excluded). */
  reads: string[];
  /** Values the part produces that later parts read. */
  handsOn: string[];
}

/** Parts grow up to this multiple of the budget while looking for a cheap cut. */
const WINDOW = 4;

/** Ops whose outputs describe shapes, not data. */
const SHAPE_OPS = new Set(['Shape', 'Size']);

/** A float constant of at least 2 dims and 1024 values: a layer's weight, not a scalar or a norm's vector. */
function isWeight(v: Value): boolean {
  const t = v.constValue;
  return !!t && t.dims.length >= 2 && t.size >= 1024;
}

/** Reads of `n` that belong to the main graph (its subgraphs' own values excluded). */
function mainReads(n: Node, g: Graph): Value[] {
  return [...nodeReads(n)].filter((v) => v.graph === g);
}

/** Main-graph nodes (topologically ordered) in consecutive parts of about `budget` weight bytes each. */
export function planParts(g: Graph, budget: number): Part[] {
  const nodes = g.nodes;
  const reads = nodes.map((n) => mainReads(n, g));
  const lastUse = new Map<Value, number>();
  reads.forEach((vs, i) => { for (const v of vs) lastUse.set(v, i); });
  // Activations alive across the cut after node i that carry the model's data: those computed
  // from a weight (the embedding lookup, the projections) or from such values. Rotary tables, the
  // mask and shape arithmetic are computed from the inputs and constants alone: small, and read by
  // every layer, so they cross every cut alike and do not count. Inside attention the layer's input
  // still waits for its residual Add while the heads are in flight; just after a residual Add only
  // the hidden state crosses.
  const heavy = new Set<Value>();
  nodes.forEach((n, i) => {
    if (SHAPE_OPS.has(n.opType)) return;
    if (reads[i]!.some((v) => heavy.has(v) || isWeight(v))) for (const o of n.outputs) heavy.add(o);
  });
  const crossing: number[] = [];
  let alive = 0;
  const dies = new Map<number, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      const last = lastUse.get(o);
      if (!heavy.has(o) || last === undefined || last <= i) continue;
      alive++;
      dies.set(last, (dies.get(last) ?? 0) + 1);
    }
    alive -= dies.get(i) ?? 0;
    crossing.push(alive);
  });
  // Weight bytes each node adds to its part (a weight read by several nodes of one part counts once).
  const cuts: number[] = [];
  let seen = new Set<Value>();
  let bytes = 0;
  let reached = -1;
  const adds = (k: number) => {
    let b = 0;
    for (const v of new Set(reads[k]!)) if (v.constValue && !seen.has(v)) b += v.constValue.byteLength;
    return b;
  };
  // The cut in [from, to] with the fewest activations crossing it (the first of equals).
  const bestCut = (from: number, to: number) => {
    let best = from;
    for (let k = from; k <= to; k++) if (crossing[k]! < crossing[best]!) best = k;
    return best;
  };
  for (let i = 0; i < nodes.length;) {
    const b = adds(i);
    // The window ends before the node that would take the part past 4x the budget: wide enough to
    // reach the end of a layer whose MLP alone is over the budget.
    if (reached >= 0 && i > reached && bytes + b > WINDOW * budget) {
      const cut = bestCut(reached, i - 1);
      cuts.push(cut);
      i = cut + 1;
      seen = new Set();
      bytes = 0;
      reached = -1;
      continue;
    }
    for (const v of reads[i]!) if (v.constValue) seen.add(v);
    bytes += b;
    if (reached < 0 && bytes >= budget) reached = i;
    i++;
  }
  if (reached >= 0) {
    const cut = bestCut(reached, nodes.length - 1);
    if (cut < nodes.length - 1) cuts.push(cut);
  }
  const parts: Part[] = [];
  let first = 0;
  for (const end of [...cuts, nodes.length - 1]) {
    const members = nodes.slice(first, end + 1);
    const inside = new Set(members.flatMap((n) => n.outputs));
    const partReads = new Set<string>();
    for (let k = first; k <= end; k++) {
      for (const v of reads[k]!) {
        if (!v.constValue && !inside.has(v)) partReads.add(v.name);
      }
    }
    const handsOn = [...inside].filter((v) => (lastUse.get(v) ?? -1) > end).map((v) => v.name);
    parts.push({ nodes: members, reads: [...partReads], handsOn });
    first = end + 1;
  }
  return parts;
}
