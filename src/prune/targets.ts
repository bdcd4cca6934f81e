/**
 * The weights pruning can touch: the constant weight of every Conv, ConvTranspose, MatMul and Gemm
 * (the op-support table's weight inputs), stored as an initializer (Constant nodes are turned into
 * initializers first) or behind a Cast from a narrower float type. Each is seen as a matrix
 * [outputs, reduction] per convolution group: row o holds what output o multiplies with its inputs,
 * in the reduction order (input channel, kernel row, kernel column), so every method (magnitude,
 * Wanda, N:M, SparseGPT) works on the same rows whatever the op's storage layout.
 */
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import type { Graph } from '../ir/graph.js';
import { DataType, dataTypeName } from '../ir/data-type.js';
import { Tensor } from '../ir/tensor.js';
import { opSupport } from '../ops/op-support.js';

export type TargetKind = 'conv' | 'convtranspose' | 'matmul' | 'gemm';

const FLOATS = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

export interface WeightTarget {
  node: Node;
  kind: TargetKind;
  /** The initializer that holds the weight (behind `cast` when it is stored narrower). */
  source: Value;
  cast?: Node;
  /** The activation the weight multiplies. */
  input: Value;
  dims: number[];
  /** Rows (outputs), reduction length per row, convolution groups (rows and inputs split evenly). */
  rows: number;
  cols: number;
  groups: number;
  /** Kernel taps per input channel (1 for MatMul/Gemm). */
  taps: number;
  /** Input channels (Conv) or features (MatMul/Gemm) of the activation. */
  inputFeatures: number;
  /** Axis of the activation that holds those features (1 for convolutions, the last for MatMul/Gemm). */
  inputAxis: number;
}

/** The Cast that reads a narrower float constant as float32, when `v` is one. */
function castSource(v: Value): { source: Value; cast: Node } | undefined {
  const p = v.producer;
  if (!p || p.opType !== 'Cast' || p.domain !== '' || p.getInt('to', 0) !== DataType.FLOAT) return undefined;
  const src = p.input(0);
  return src?.constValue && src.isInitializer && FLOATS.has(src.constValue.dataType) ? { source: src, cast: p } : undefined;
}

/** The weight target of a node, or why it has none (for the summary). */
export function analyzeTarget(node: Node): WeightTarget | string {
  const support = opSupport(node.opType, node.domain);
  if (node.domain !== '' || !support?.weights || !['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(node.opType)) return `${node.opType} has no weight pruning applies to`;
  const w = node.input(support.weights[0]!.index);
  const input = node.input(0);
  if (!w || !input) return 'missing input';
  let source: Value = w;
  let cast: Node | undefined;
  if (!(w.constValue && w.isInitializer)) {
    const c = castSource(w);
    if (!c) {
      if (w.producer?.opType === 'DequantizeLinear') return 'already quantized: its weight comes from a DequantizeLinear';
      return input.constant ? 'the constant operand is the left one' : 'the weight is not a constant (both operands are activations)';
    }
    ({ source, cast } = c);
  }
  const t = source.constValue!;
  if (!FLOATS.has(t.dataType)) return `weight is ${dataTypeName(t.dataType)}, not a float type`;
  const dims = [...t.dims];
  const base = { node, source, input, dims, ...(cast ? { cast } : {}) };
  switch (node.opType) {
    case 'Conv': {
      if (dims.length < 3) return `Conv weight of rank ${dims.length}`;
      const groups = node.getInt('group', 1);
      const taps = dims.slice(2).reduce((a, b) => a * b, 1);
      return { ...base, kind: 'conv', rows: dims[0]!, cols: dims[1]! * taps, groups, taps, inputFeatures: dims[1]! * groups, inputAxis: 1 };
    }
    case 'ConvTranspose': {
      if (dims.length < 3) return `ConvTranspose weight of rank ${dims.length}`;
      const groups = node.getInt('group', 1);
      const taps = dims.slice(2).reduce((a, b) => a * b, 1);
      return { ...base, kind: 'convtranspose', rows: dims[1]! * groups, cols: (dims[0]! / groups) * taps, groups, taps, inputFeatures: dims[0]!, inputAxis: 1 };
    }
    case 'MatMul': {
      if (dims.length !== 2) return `MatMul weight of rank ${dims.length}; only 2-D weights [K, N] are pruned`;
      const rank = input.shape?.length;
      return { ...base, kind: 'matmul', rows: dims[1]!, cols: dims[0]!, groups: 1, taps: 1, inputFeatures: dims[0]!, inputAxis: rank !== undefined ? rank - 1 : -1 };
    }
    default: {
      if (dims.length !== 2) return `Gemm weight of rank ${dims.length}`;
      if (node.getInt('transA', 0)) return 'Gemm with transA=1 (its input is transposed)';
      const transB = node.getInt('transB', 0) !== 0;
      const [K, N] = (transB ? [dims[1], dims[0]] : dims) as [number, number];
      return { ...base, kind: 'gemm', rows: N, cols: K, groups: 1, taps: 1, inputFeatures: K, inputAxis: 1 };
    }
  }
}

/** Row-major [rows, cols] float32 copy of a target's weight in the reduction order. */
export function readRows(t: WeightTarget): Float32Array {
  const w = t.source.constValue!.toFloat32();
  const { rows, cols } = t;
  switch (t.kind) {
    case 'conv': return Float32Array.from(w);
    case 'convtranspose': return convTransposeRows(w, t, false);
    case 'matmul': return transpose(w, cols, rows);
    case 'gemm': return t.node.getInt('transB', 0) ? Float32Array.from(w) : transpose(w, cols, rows);
  }
}

/** Stores rows (as readRows gives them) back into the target's initializer, in its own type. */
export function writeRows(t: WeightTarget, rowsData: Float32Array): void {
  let stored: Float32Array;
  switch (t.kind) {
    case 'conv': stored = rowsData; break;
    case 'convtranspose': stored = convTransposeRows(rowsData, t, true); break;
    case 'matmul': stored = transpose(rowsData, t.rows, t.cols); break;
    case 'gemm': stored = t.node.getInt('transB', 0) ? rowsData : transpose(rowsData, t.rows, t.cols); break;
  }
  const old = t.source.constValue!;
  // Pruning zeroes weights and leaves the others as they were (or, for SparseGPT, updates them):
  // the tensor keeps its type, so float16 weights stay float16.
  t.source.constValue = Tensor.fromFloat32(old.dataType, [...old.dims], stored, old.name);
}

function transpose(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}

/** ConvTranspose stores [C, O/g, taps]; its rows are outputs o with entries (c within the group, tap). */
function convTransposeRows(a: Float32Array, t: WeightTarget, back: boolean): Float32Array {
  const out = new Float32Array(a.length);
  const perGroupOut = t.rows / t.groups;
  const perGroupIn = t.cols / t.taps;
  for (let o = 0; o < t.rows; o++) {
    const g = Math.floor(o / perGroupOut);
    const oo = o % perGroupOut;
    for (let c = 0; c < perGroupIn; c++) {
      for (let k = 0; k < t.taps; k++) {
        const stored = (((g * perGroupIn + c) * perGroupOut) + oo) * t.taps + k;
        const row = o * t.cols + c * t.taps + k;
        if (back) out[stored] = a[row]!;
        else out[row] = a[stored]!;
      }
    }
  }
  return out;
}

/** Every node of the main graph with a weight, with its target or the reason it has none. */
export function findTargets(g: Graph): { targets: WeightTarget[]; unsupported: { node: Node; reason: string }[] } {
  const targets: WeightTarget[] = [];
  const unsupported: { node: Node; reason: string }[] = [];
  for (const node of g.nodes) {
    if (node.domain !== '' || !['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(node.opType)) continue;
    const t = analyzeTarget(node);
    // MatMuls between two activations (attention scores) have no weight: not worth a line.
    if (typeof t === 'string') {
      if (!t.startsWith('the weight is not a constant')) unsupported.push({ node, reason: t });
    } else targets.push(t);
  }
  return { targets, unsupported };
}

/**
 * The first and last weighted layers: those reached from a graph input (or reaching a graph
 * output) without passing through another weighted layer. They see the raw input and produce the
 * model's answer, and pruning them costs the most accuracy for the fewest weights.
 */
export function firstAndLast(g: Graph, targets: readonly WeightTarget[]): { first: Set<Node>; last: Set<Node> } {
  const weighted = new Set(targets.map((t) => t.node));
  const first = new Set<Node>();
  const last = new Set<Node>();
  const seen = new Set<Node>();
  const down: Value[] = [...g.inputs.filter((v) => !v.isInitializer)];
  while (down.length) {
    for (const n of down.pop()!.consumers()) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (weighted.has(n)) first.add(n);
      else down.push(...n.outputs);
    }
  }
  seen.clear();
  const up: Value[] = [...g.outputs];
  while (up.length) {
    const n = up.pop()!.producer;
    if (!n || seen.has(n)) continue;
    seen.add(n);
    if (weighted.has(n)) last.add(n);
    else for (const v of n.inputs) if (v) up.push(v);
  }
  return { first, last };
}
