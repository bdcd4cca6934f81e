/**
 * Where AWQ can put 1/s for the attention output projection: into the output columns of the value
 * projection. Between them, attention only reshapes, transposes, concatenates the cache, repeats
 * heads (GQA) and takes probability-weighted sums over positions, all of which keep each (head,
 * dim) channel apart, so o_proj's input channel h*hd + d is v_proj's column g*hd + d times a mix
 * over positions (g the KV head of head h). Scaling v_proj's column by 1/s and o_proj's row by s is
 * exact when every head that repeats one KV head shares s. The path is accepted only when every op
 * on it is one of these and the head axis can be followed through it (shapes from the Reshape
 * constants); ONNX Runtime's fused GroupQueryAttention / MultiHeadAttention keep the same map
 * (fusedAttentionFold); anything else (rotary on V, packed QKV) keeps o_proj unscaled. The KV
 * cache output (present.*.value) then holds V/s: the model's own next step reads it back
 * consistently.
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

/** o_proj channel c = h * hd + d reads v_proj column g * hd + d, g = h's KV head (reps heads per KV head). */
function channelMap(K: number, hd: number, reps: number): Int32Array {
  const source = new Int32Array(K);
  for (let c = 0; c < K; c++) source[c] = Math.floor(Math.floor(c / hd) / reps) * hd + (c % hd);
  return source;
}

/**
 * ONNX Runtime's fused attention (com.microsoft GroupQueryAttention or MultiHeadAttention, as
 * Optimum and transformers.js exports have it): its output 0 is [.., num_heads * head_size] with
 * head h reading KV head h / (num_heads / kv_num_heads), so the map is the one above; the value
 * input must come straight from a MatMul with a float weight of its own (not packed QKV).
 */
function fusedAttentionFold(input: Value, K: number): HeadsFold | string | undefined {
  const p = input.producer;
  if (!p || p.domain !== 'com.microsoft' || (p.opType !== 'GroupQueryAttention' && p.opType !== 'MultiHeadAttention')) return undefined;
  if (p.output(0) !== input) return `${p.name} does not produce it as its attention output`;
  const v = p.input(2);
  const vProj = v?.producer;
  if (!v || !vProj || vProj.opType !== 'MatMul' || vProj.domain !== '') return `the value input of ${p.opType} ${p.name} is not a MatMul output (packed QKV or a bias Add)`;
  if (v.consumers().length !== 1 || v.isGraphOutput) return `${v.name} is also read by other ops`;
  const w = vProj.input(1);
  const t = w?.constant;
  if (!t || t.dataType !== DataType.FLOAT || t.dims.length !== 2 || w!.consumers().length !== 1) return 'the value projection has no float weight of its own';
  // MultiHeadAttention's bias input adds a bias to V too, which 1/s on the weight would not scale.
  if (p.opType === 'MultiHeadAttention' && p.input(3)) return `${p.name} adds a bias to the values`;
  const heads = p.getInt('num_heads');
  const kvHeads = p.opType === 'GroupQueryAttention' ? p.getInt('kv_num_heads') : heads;
  const Nv = t.dims[1]!;
  if (!heads || !kvHeads || K % heads || heads % kvHeads || Nv !== (K / heads) * kvHeads) return `o_proj has ${K} input channels, v_proj ${Nv} output channels for ${heads} heads over ${kvHeads} KV heads`;
  return { kind: 'heads', weight: w!, node: vProj, source: channelMap(K, K / heads, heads / kvHeads), columns: Nv };
}

/** Follows the head axis from v_proj's output to `input`; the channel map, or why it cannot be followed. */
export function findHeadsFold(input: Value, reader: Node, K: number): HeadsFold | string {
  const fused = fusedAttentionFold(input, K);
  if (fused !== undefined) return fused;
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
  return { kind: 'heads', weight: wv, node: path.vProj, source: channelMap(K, hd, reps), columns: Nv };
}
