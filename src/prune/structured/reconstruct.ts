/**
 * Repairing the layer after a cut: a layer that lost input channels is refitted so that its output
 * on the calibration data stays as close as possible to the original. With H the Gram matrix of
 * its inputs (im2col patches for a Conv) extended by a constant 1 for the bias, K the kept input
 * positions (plus the bias) and R the removed ones, least squares gives
 *
 *   [W_K ; b]' = [W_K ; b] + H_KK^-1 H_KR W_R
 *
 * (the removed channels' contribution, projected onto what the kept ones can express; for a
 * channel that is constant on the data this is exactly its mean moved into the bias). The Gram
 * matrix comes from the one calibration pass on the original model, so each layer is fitted to the
 * original inputs of its kept channels.
 */
import { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import { analyzeTarget, readRows, writeRows, type WeightTarget } from '../targets.js';
import { gramRequest } from '../stats.js';
import { solveSpd, subtractProducts } from '../../linalg.js';
import { constOf, replaceConstant } from './tensors.js';

/** Damping of H_KK, a fraction of its mean diagonal: a ridge against directions the data never visits. */
const DAMP = 1e-3;

/** The layers a cut can refit: Conv (group 1), Gemm, and MatMul with a constant weight. */
export function reconstructible(node: Node): WeightTarget | undefined {
  const t = analyzeTarget(node);
  return typeof t !== 'string' && t.kind !== 'convtranspose' && t.groups === 1 ? t : undefined;
}

/** The bias the layer adds (read, and written back or created: a Conv B, a Gemm C, or the Add after a MatMul). */
function biasOf(t: WeightTarget): { read(): Float32Array; write(v: Float32Array): void } {
  const node = t.node;
  const n = t.rows;
  const g = node.graph!;
  const fresh = (base: string) => g.nameAuthority()?.fresh(base) ?? base;
  const index = t.kind === 'matmul' ? -1 : 2;
  if (index === 2) {
    const c = constOf(node.input(2));
    if (c && c.tensor.size === n) return { read: () => Float32Array.from(c.tensor.toFloat32()), write: (v) => replaceConstant(node, 2, Tensor.fromFloat32(c.tensor.dataType, [...c.tensor.dims], v)) };
    return {
      read: () => new Float32Array(n),
      write: (v) => {
        while (node.inputs.length < 2) node.appendInput(null);
        const init = g.addInitializer(fresh(`${node.name || 'layer'}_bias`), Tensor.float([n], v));
        if (node.inputs.length === 2) node.appendInput(init);
        else node.replaceInput(2, init);
      },
    };
  }
  // MatMul: the bias is the constant of the Add that alone reads its output, if there is one.
  const out = node.outputs[0]!;
  const add = out.consumers().length === 1 && !out.isGraphOutput ? out.consumers()[0]! : undefined;
  if (add && add.opType === 'Add' && add.domain === '') {
    const k = add.input(0) === out ? 1 : 0;
    const c = constOf(add.input(k));
    if (c && c.tensor.size === n && c.tensor.dims[c.tensor.dims.length - 1] === n) {
      return { read: () => Float32Array.from(c.tensor.toFloat32()), write: (v) => replaceConstant(add, k, Tensor.fromFloat32(c.tensor.dataType, [...c.tensor.dims], v)) };
    }
  }
  return {
    read: () => new Float32Array(n),
    write: (v) => {
      // A new Add after the MatMul carries the bias the refit found.
      const biasValue = g.addInitializer(fresh(`${node.name || 'matmul'}_bias`), Tensor.float([n], v));
      const sum = new Node('Add', [out, biasValue], [fresh(`${out.name}_biased`)], { name: fresh(`${node.name || 'matmul'}_bias_add`) });
      const uses = [...out.uses];
      const wasOutput = g.outputs.indexOf(out);
      g.insertAfter(node, sum);
      for (const u of uses) u.node.replaceInput(u.index, sum.outputs[0]!);
      if (wasOutput >= 0) g.outputs[wasOutput] = sum.outputs[0]!;
      const t0 = out.type;
      if (t0) sum.outputs[0]!.type = structuredClone(t0);
    },
  };
}

/**
 * Refits `node`, which keeps input positions `kept` (in its input tensor's tracked axis) of
 * `total`. Returns false when no Gram matrix reached it.
 */
export function reconstructLayer(node: Node, keptPositions: Int32Array, total: number, stats: Statistics): boolean {
  const t = reconstructible(node);
  if (!t) return false;
  const h = stats.get(gramRequest(t, true) as { tensor: string; kind: 'gram'; features: number });
  if (!h || h.groups !== 1) return false;
  const taps = t.taps;
  if (total * taps !== t.cols || h.size !== t.cols + 1) return false;
  const keepSet = new Uint8Array(total);
  for (const p of keptPositions) keepSet[p] = 1;
  const keptCols: number[] = [];
  const droppedCols: number[] = [];
  for (let c = 0; c < t.cols; c++) (keepSet[Math.floor(c / taps)] ? keptCols : droppedCols).push(c);
  if (!droppedCols.length) return false;
  const K = h.size;
  const rowsK = [...keptCols, t.cols]; // the bias feature is the last row of H
  const n1 = rowsK.length;
  const R = droppedCols.length;
  const O = t.rows;
  const W = readRows(t);
  // A = H[K, R] (n1 x R), WR = W[:, R] (O x R): B = A WR^T, built as 0 - (-A) WR^T by the 4x4 kernel.
  const A = new Float64Array(n1 * R);
  for (let i = 0; i < n1; i++) for (let j = 0; j < R; j++) A[i * R + j] = -h.gram[rowsK[i]! * K + droppedCols[j]!]!;
  const WR = new Float64Array(O * R);
  for (let o = 0; o < O; o++) for (let j = 0; j < R; j++) WR[o * R + j] = W[o * t.cols + droppedCols[j]!]!;
  const B = new Float64Array(n1 * O);
  subtractProducts(B, 0, O, A, WR, n1, O, R);
  const H11 = new Float64Array(n1 * n1);
  for (let i = 0; i < n1; i++) for (let j = 0; j < n1; j++) H11[i * n1 + j] = h.gram[rowsK[i]! * K + rowsK[j]!]!;
  solveSpd(H11, n1, B, O, DAMP);
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < keptCols.length; i++) W[o * t.cols + keptCols[i]!]! += B[i * O + o]!;
    for (const c of droppedCols) W[o * t.cols + c] = 0;
  }
  const bias = biasOf(t);
  const b = bias.read();
  for (let o = 0; o < O; o++) b[o]! += B[(n1 - 1) * O + o]!;
  writeRows(t, W);
  bias.write(b);
  return true;
}

/** The Gram request a layer's refit needs (with its bias column). */
export function reconstructRequest(node: Node) {
  const t = reconstructible(node);
  return t ? gramRequest(t, true) : undefined;
}
