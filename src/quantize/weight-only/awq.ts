/**
 * AWQ (Lin et al., 2023), activation-aware weight scaling: input channels that carry large
 * activations are scaled up in the weight (W' = diag(s) W) and down in the activation (X' = X / s),
 * so their weights get finer steps within each block of K while X' W' = X W in exact arithmetic.
 * The division is folded into the op that produces X: the weight vector of an RMSNorm/LayerNorm
 * (its final Mul, LayerNormalization's scale and bias, or those of ORT's fused norms such as
 * SkipSimplifiedLayerNormalization in Optimum exports), or the output columns of the MatMul
 * feeding a Mul (SwiGLU's up projection before the down projection), or, for the attention output
 * projection, the value projection's output columns (awq-attention.ts). Where nothing can absorb it
 * (a Gemm head on a shared table, a fused attention op), the MatMuls stay unscaled.
 *
 * As in the paper: s = a^alpha / sqrt(max * min) with a = E|x| of each input channel over the
 * calibration data, alpha searched on the grid 0, 0.05, ..., 1 per input, shared by every MatMul
 * reading that input, minimizing the output error ||X W - X diag(1/s) Q(diag(s) W)||^2 =
 * sum_j dW_j^T (X^T X) dW_j over the columns j of each weight (sampled when K^2 N is large).
 * alpha = 0 is plain RTN, so the search never does worse than RTN on the statistics it has.
 * Then the clipping search (awq-clip.ts) on every MatMul with its own weight, scaled or not.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import type { DenseProducts } from '../../runtime/dense-products.js';
import type { LinearOp } from '../linear.js';
import { dequantizeBlocks, quantizeRtn, type BlockSpec } from './block-quant.js';
import { clipWeights } from './awq-clip.js';
import type { AwqStats } from './awq-stats.js';
import { findHeadsFold, type HeadsFold } from './awq-attention.js';

const ALPHAS = Array.from({ length: 21 }, (_, i) => i / 20);
/** Multiply-adds per alpha and weight in the error (m K^2 for m columns): all columns below this, else a sample of >= 256. */
const ERROR_BUDGET = 2 ** 27;

/** Where 1/s goes: a per-channel constant vector (norm weight), or the columns of a producer's weight. */
type Fold =
  | { kind: 'vector'; values: Value[]; node: Node }
  | { kind: 'columns'; weight: Value; node: Node };

/** The outcome per MatMul, for the summary. */
export type AwqNotes = Map<Node, string>;

function isVector(v: Value | null, K: number): boolean {
  const t = v?.constant;
  return !!t && t.dataType === DataType.FLOAT && t.size === K && t.dims[t.dims.length - 1] === K && v!.consumers().length === 1;
}

/**
 * Norm ops whose normalized output (output 0) is multiplied by a per-channel scale vector and then
 * shifted by a bias vector: the inputs holding them (the bias is optional). Besides ONNX's own,
 * the fused forms ONNX Runtime's transformer optimizer writes into Optimum / transformers.js
 * exports; their other outputs (a Skip op's input + skip sum) do not see the vectors.
 */
const NORM_VECTORS: Record<string, { scale: number; bias?: number }> = {
  LayerNormalization: { scale: 1, bias: 2 },
  RMSNormalization: { scale: 1 },
  SimplifiedLayerNormalization: { scale: 1 },
  'com.microsoft:SimplifiedLayerNormalization': { scale: 1 },
  'com.microsoft:SkipSimplifiedLayerNormalization': { scale: 2 },
  'com.microsoft:SkipLayerNormalization': { scale: 2, bias: 3 },
};

/** The op that can absorb 1/s for `input` (read only by `group`), or why there is none. */
function findFold(input: Value, K: number): Fold | string {
  const p = input.producer;
  const norm = p && NORM_VECTORS[p.domain ? `${p.domain}:${p.opType}` : p.opType];
  if (p && norm && p.output(0) === input) {
    const scale = p.input(norm.scale);
    const bias = norm.bias === undefined ? null : p.input(norm.bias);
    if (!isVector(scale, K) || (bias && !isVector(bias, K))) return `the ${p.opType} scale/bias are not constant vectors of its own`;
    return { kind: 'vector', values: bias ? [scale!, bias] : [scale!], node: p };
  }
  if (!p || p.domain !== '') return 'its input is not produced by a norm or a Mul';
  if (p.opType !== 'Mul') return `its input comes from ${p.opType}, which cannot absorb a per-channel scale`;
  for (const i of [0, 1]) if (isVector(p.input(i), K)) return { kind: 'vector', values: [p.input(i)!], node: p };
  for (const i of [0, 1]) {
    const m = p.input(i)?.producer;
    const w = m?.input(1);
    if (m?.opType === 'MatMul' && m.domain === '' && p.input(i)!.consumers().length === 1 && w?.constant
      && w.constant.dataType === DataType.FLOAT && w.constant.dims.length === 2 && w.constant.dims[1] === K && w.consumers().length === 1) {
      return { kind: 'columns', weight: w, node: m };
    }
  }
  return 'the Mul before it has no constant per-channel factor and no MatMul factor to absorb the scale';
}

/**
 * Output error of `w` [K, N] quantized after scaling its rows by s, over sampled columns: the sum
 * over columns of dW^T H dW, its O(m K^2) product in ONNX Runtime's float64 GEMM (`dp`: a 5632-wide
 * down projection took 8 s per alpha as a loop in JS, a 1.1B decoder hours).
 */
async function scaledError(w: Float32Array, K: number, N: number, s: Float64Array, h: Float64Array, spec: BlockSpec, dp: DenseProducts): Promise<number> {
  const m = Math.min(N, Math.max(256, Math.floor(ERROR_BUDGET / (K * K))));
  const sub = new Float32Array(K * m);
  for (let k = 0; k < K; k++) for (let j = 0; j < m; j++) sub[k * m + j] = w[k * N + Math.floor((j * N) / m)]! * s[k]!;
  const deq = dequantizeBlocks(quantizeRtn(sub, K, m, spec));
  // dW [K, m] (row k: input channel k of each sampled column), then dW^T H [m, K] in one product.
  const d = dp.work('awq.d', K * m);
  for (let k = 0; k < K; k++) for (let j = 0; j < m; j++) d[k * m + j] = (sub[k * m + j]! - deq[k * m + j]!) / s[k]!;
  const dh = { rows: m, cols: K, data: dp.work('awq.dh', m * K) };
  await dp.product({ rows: K, cols: m, data: d }, { rows: K, cols: K, data: h }, dh);
  let e = 0;
  for (let k = 0; k < K; k++) for (let j = 0; j < m; j++) e += d[k * m + j]! * dh.data[j * K + k]!;
  return e;
}

function scalesFor(absMean: Float64Array, alpha: number): Float64Array {
  const K = absMean.length;
  const s = new Float64Array(K);
  let lo = Infinity, hi = 0;
  for (let k = 0; k < K; k++) {
    s[k] = Math.max(absMean[k]!, 1e-8) ** alpha;
    lo = Math.min(lo, s[k]!);
    hi = Math.max(hi, s[k]!);
  }
  // Centred around 1 (geometric mean of the extremes), so neither side drifts in float range.
  const mid = Math.sqrt(lo * hi);
  for (let k = 0; k < K; k++) s[k]! /= mid;
  return s;
}

function replaceScaled(v: Value, f: (data: Float32Array) => void): void {
  const t = v.constant!;
  const data = Float32Array.from(t.toFloat32());
  f(data);
  v.constValue = Tensor.fromTyped(DataType.FLOAT, [...t.dims], data, t.name);
  // The bytes the old tensor read from external data: ops analyzed before AWQ still hold that
  // tensor, which would keep them (a 1.1B decoder's layers, one after another).
  t.release();
}

/** Divides column j of a row-major weight by s[j]. */
function divideColumns(v: Value, s: Float64Array): void {
  const cols = s.length;
  replaceScaled(v, (d) => { for (let r = 0; r < d.length / cols; r++) for (let j = 0; j < cols; j++) d[r * cols + j]! /= s[j]!; });
}

/** The mean of `absMean` over the o_proj channels that read each v_proj column. */
function perColumn(absMean: Float64Array, fold: HeadsFold): Float64Array {
  const sum = new Float64Array(fold.columns), count = new Float64Array(fold.columns);
  for (const [c, j] of fold.source.entries()) { sum[j]! += absMean[c]!; count[j]! += 1; }
  return sum.map((v, j) => v / count[j]!);
}

/** A MatMul whose weight no other node reads: AWQ rewrites that weight in the model. */
function ownsWeight(op: LinearOp): boolean {
  return op.node.opType === 'MatMul' && op.weightValue.consumers().length === 1;
}

export interface AwqResult {
  notes: AwqNotes;
  /**
   * The [K, N] weights to quantize for the ops whose weight stays as it is in the model (a Gemm, or
   * a weight other nodes read too, such as a tied LM head's table that the embedding lookup reads):
   * their quantized copy is scaled and clipped, the float weight the others read is not.
   */
  weights: Map<Node, Float32Array>;
}

/**
 * Searches and applies the scales for every group of linear ops sharing an input, rewriting the
 * weights and the folded constants in `ops`' model (new tensors: the input model is untouched),
 * then clips every weight (unless `clip` is false: the scaling alone keeps the float function).
 * Callers re-read the weights afterwards (or take them from `weights`).
 */
export async function applyAwq(ops: readonly LinearOp[], stats: Map<string, AwqStats>, specOf: (op: LinearOp) => BlockSpec, dp: DenseProducts, options: { clip?: boolean } = {}): Promise<AwqResult> {
  const notes: AwqNotes = new Map();
  const weights = new Map<Node, Float32Array>();
  // Read from the values, not a stale op.weight(): a fold may already have rescaled one of them.
  const current = (op: LinearOp) => (ownsWeight(op) ? op.weightValue.constant!.toFloat32() : (weights.get(op.node) ?? op.weight()));
  const store = (op: LinearOp, w: Float32Array) => {
    if (!ownsWeight(op)) weights.set(op.node, w);
    else replaceScaled(op.weightValue, (d) => d.set(w));
  };
  const groups = new Map<Value, LinearOp[]>();
  for (const op of ops) groups.set(op.input, [...(groups.get(op.input) ?? []), op]);
  /** The scales each input ended up with (absent: 1), for the clipping search's X^T X. */
  const applied = new Map<Value, Float64Array>();
  for (const [input, group] of groups) {
    const K = group[0]!.K;
    const say = (text: string) => { for (const op of group) notes.set(op.node, text); };
    const st = stats.get(input.name);
    if (!st) { say('RTN (AWQ: no calibration statistics reached this input)'); continue; }
    const members = new Set(group.map((op) => op.node));
    // Shape/Size read only the shape, which the scaling leaves alone (torch's view() emits them).
    if (input.consumers().some((n) => !members.has(n) && n.opType !== 'Shape' && n.opType !== 'Size') || input.isGraphOutput) { say('unscaled (other ops read the same input, and would see it scaled)'); continue; }
    let fold: Fold | HeadsFold | string = findFold(input, K);
    if (typeof fold === 'string' && group.length === 1) {
      const heads = findHeadsFold(input, group[0]!.node, K);
      if (typeof heads !== 'string') fold = heads;
      else fold = `${fold}; ${heads}`;
    }
    if (typeof fold === 'string') { say(`unscaled (${fold})`); continue; }
    // Heads sharing a KV head share a scale: their mean magnitudes are averaged per v_proj column.
    const heads = fold.kind === 'heads' ? fold : undefined;
    const magnitude = heads ? perColumn(st.absMean, heads) : st.absMean;
    const expand = (sv: Float64Array) => (heads ? Float64Array.from(heads.source, (j) => sv[j]!) : sv);
    const before = group.map(current);
    let best: { alpha: number; error: number; s: Float64Array } = { alpha: 0, error: Infinity, s: new Float64Array(K).fill(1) };
    for (const alpha of ALPHAS) {
      const s = alpha === 0 ? new Float64Array(K).fill(1) : expand(scalesFor(magnitude, alpha));
      let error = 0;
      for (const [i, op] of group.entries()) error += await scaledError(before[i]!, K, op.N, s, st.gram, specOf(op), dp);
      if (error < best.error) best = { alpha, error, s };
    }
    if (best.alpha === 0) { say('unscaled (alpha 0 was best)'); continue; }
    const s = best.s;
    for (const [i, op] of group.entries()) {
      const w = Float32Array.from(before[i]!);
      for (let k = 0; k < K; k++) for (let n = 0; n < op.N; n++) w[k * op.N + n]! *= s[k]!;
      store(op, w);
    }
    if (fold.kind === 'vector') for (const v of fold.values) replaceScaled(v, (d) => { for (let k = 0; k < K; k++) d[k]! /= s[k]!; });
    else if (fold.kind === 'columns') divideColumns(fold.weight, s);
    else divideColumns(fold.weight, scalesFor(magnitude, best.alpha));
    applied.set(input, s);
    say(`scaled (alpha ${best.alpha.toFixed(2)}, 1/s folded into ${fold.node.name || fold.node.opType})`);
  }
  // Clipping last, on the final weights: a later fold into a producer's columns rescales whole
  // columns, which would move a clipped block's range.
  for (const op of ops) {
    const st = stats.get(op.input.name);
    if (!st || options.clip === false) continue;
    const s = applied.get(op.input);
    const K = op.K;
    const gram = s ? (k: number, l: number) => st.gram[k * K + l]! / (s[k]! * s[l]!) : (k: number, l: number) => st.gram[k * K + l]!;
    const w = Float32Array.from(current(op));
    const fraction = await clipWeights(w, K, op.N, specOf(op), gram, dp);
    store(op, w);
    notes.set(op.node, `AWQ ${notes.get(op.node)!}, ${(100 * fraction).toFixed(0)}% of blocks clipped`);
  }
  return { notes, weights };
}
