/**
 * Where AWQ can put 1/s for the attention output projection: into the output columns of the value
 * projection. Between them, attention only reshapes, transposes, concatenates the cache, repeats
 * heads (GQA) and takes probability-weighted sums over positions, all of which keep each (head,
 * dim) channel apart, so o_proj's input channel h*hd + d is v_proj's column g*hd + d times a mix
 * over positions (g the KV head of head h). Scaling v_proj's column by 1/s and o_proj's row by s is
 * exact when every head that repeats one KV head shares s. The path is accepted only when every op
 * on it is one of these and the head axis can be followed through it (shapes from the Reshape
 * constants); anything else (rotary on V, a fused attention op) keeps o_proj unscaled. The KV cache
 * output (present.*.value) then holds V/s: the model's own next step reads it back consistently.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';

export interface HeadsFold {
  kind: 'heads';
  /** The value projection's weight [K, Nv]: its columns absorb 1/s. */
  weight: Value;
  node: Node;
  /** For each input channel of o_proj, the v_proj column it comes from. */
  source: Int32Array;
  columns: number;
}

/** The entries of a Reshape's shape input that are constants (a constant, or a Concat of pieces). */
function shapeEntries(v: Value | null): (number | undefined)[] | undefined {
  if (!v) return undefined;
  if (v.constant) return v.constant.toNumbers();
  const p = v.producer;
  if (p?.opType !== 'Concat' || p.domain !== '') return undefined;
  const out: (number | undefined)[] = [];
  for (const piece of p.inputs) {
    const c = piece?.constant;
    if (c) out.push(...c.toNumbers());
    else if (piece?.producer?.opType === 'Unsqueeze') out.push(undefined); // one dynamic size (torch's view(b, s, ...))
    else return undefined;
  }
  return out;
}

function axesOf(n: Node): number[] | undefined {
  return n.input(1)?.constant?.toNumbers() ?? n.getInts('axes');
}

const PASS_THROUGH = new Set(['Reshape', 'Transpose', 'Unsqueeze', 'Expand', 'Concat', 'MatMul']);

/** The nodes from the value projection (first) to the op producing `input`, or why there is no such path. */
function pathTo(input: Value, reader: Node): { vProj: Node; nodes: Node[] } | string {
  const nodes: Node[] = [];
  let v = input;
  let next = reader;
  for (;;) {
    // Other readers would see the scaled values; Shape/Size read only shapes, a graph output (the
    // KV cache) is read back by the model itself.
    if (v.consumers().some((c) => c !== next && c.opType !== 'Shape' && c.opType !== 'Size')) return `${v.name} is also read by other ops`;
    const p = v.producer;
    if (!p || p.domain !== '' || !PASS_THROUGH.has(p.opType)) return `its input comes from ${p?.opType ?? 'a graph input'}, which cannot absorb a per-channel scale`;
    if (p.opType === 'MatMul' && p.input(1)?.constant) {
      const w = p.input(1)!;
      if (!nodes.length || w.constant!.dataType !== DataType.FLOAT || w.constant!.dims.length !== 2 || w.consumers().length !== 1) return 'the value projection has no float weight of its own';
      return { vProj: p, nodes: nodes.reverse() };
    }
    nodes.push(p);
    next = p;
    if (p.opType === 'MatMul') v = p.input(1)!;
    else if (p.opType === 'Concat') {
      const computed = p.inputs.filter((i) => i && i.producer);
      if (computed.length !== 1 || p.inputs.some((i) => i && !i.producer && !i.graph?.inputs.includes(i))) return 'a Concat on the way mixes in computed values';
      v = computed[0]!;
    } else v = p.input(0)!;
  }
}

/** Follows the head axis from v_proj's output to `input`; the channel map, or why it cannot be followed. */
export function findHeadsFold(input: Value, reader: Node, K: number): HeadsFold | string {
  const path = pathTo(input, reader);
  if (typeof path === 'string') return path;
  const wv = path.vProj.input(1)!;
  const Nv = wv.constant!.dims[1]!;
  let rank = 0, head = -1, hd = 0, pendingRepeat = false, repeated = false;
  for (const n of path.nodes) {
    if (n.opType === 'Reshape') {
      const shape = shapeEntries(n.input(1));
      if (!shape || shape.length < 2) return `the shape of ${n.name} is not known`;
      const last = shape[shape.length - 1];
      if (head < 0) {
        // Splitting v_proj's channels into [..., heads, hd].
        if (!last || last <= 0 || Nv % last) return `${n.name} does not split the value channels into heads`;
        hd = last;
        rank = shape.length;
        head = rank - 2;
      } else if (pendingRepeat) {
        // [.., kv, rep, .., hd] -> [.., kv * rep, .., hd]: the heads of one KV head stay adjacent.
        if (shape.length !== rank - 1 || last !== hd) return `${n.name} does not merge the repeated heads`;
        rank -= 1;
        pendingRepeat = false;
        repeated = true;
      } else {
        // The last one: [.., heads, hd] -> [.., heads * hd].
        if (n.output(0) !== input || head !== rank - 2 || shape.length !== rank - 1 || (last !== K && last !== -1)) return `${n.name} does not merge heads and head dims`;
        rank -= 1;
        head = -2;
      }
    } else if (head < 0) {
      return `${n.opType} before the heads are split`;
    } else if (n.opType === 'Transpose') {
      const perm = n.getInts('perm');
      if (!perm || perm.length !== rank || perm[rank - 1] !== rank - 1) return `${n.name} moves the head dimension`;
      head = perm.indexOf(head);
    } else if (n.opType === 'Concat') {
      const axis = n.getInt('axis', 0);
      const a = axis < 0 ? axis + rank : axis;
      if (a === head || a === rank - 1) return `${n.name} concatenates heads or channels`;
    } else if (n.opType === 'Unsqueeze') {
      const axes = axesOf(n);
      if (!axes || axes.length !== 1) return `${n.name} has no single constant axis`;
      const a = axes[0]! < 0 ? axes[0]! + rank + 1 : axes[0]!;
      if (a === head + 1) pendingRepeat = true;
      else if (a <= head) head += 1;
      rank += 1;
    } else if (n.opType === 'Expand') {
      if (!pendingRepeat) return `${n.name} expands outside a head repeat`;
    }
    // MatMul (probabilities x V): batch axes and the last axis stay where they are.
  }
  if (head !== -2 || pendingRepeat) return 'the path from the value projection does not end in merged heads';
  const reps = K / Nv;
  if (!Number.isInteger(reps) || (reps > 1 && !repeated) || (reps === 1 && repeated)) return `o_proj has ${K} input channels, v_proj ${Nv} output channels`;
  const source = new Int32Array(K);
  for (let c = 0; c < K; c++) source[c] = Math.floor(Math.floor(c / hd) / reps) * hd + (c % hd);
  return { kind: 'heads', weight: wv, node: path.vProj, source, columns: Nv };
}
