/**
 * Carries out one layer of an unstructured plan: scores its weights by the layer's method, zeroes
 * the chosen ones (or, for SparseGPT, rebuilds the layer around its mask) and writes the weight
 * back in its own type. Statistics come from the one calibration pass made for the whole plan.
 */
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { LayerPlan } from '../plan.js';
import { readRows, writeRows, type WeightTarget } from '../targets.js';
import { gramRequest, normRequest } from '../stats.js';
import { applyMask, maskLayer, maskNM, maskPerRow, nmOrder } from './select.js';
import { sparseGpt } from './sparsegpt.js';

export interface LayerOutcome {
  zerosBefore: number;
  zeros: number;
}

function countZeros(w: Float32Array): number {
  let z = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) z++;
  return z;
}

/** |w| x ||x_j||, j the input feature the weight multiplies (its channel for convolutions). */
function wandaScores(t: WeightTarget, w: Float32Array, stats: Statistics): Float32Array {
  const s = stats.get(normRequest(t) as { tensor: string; kind: 'channel-l2'; axis: number });
  if (!s) throw new Error(`no input norms were collected for ${t.node.name}`);
  const scores = new Float32Array(w.length);
  const rowsPerGroup = t.rows / t.groups;
  const channelsPerGroup = t.cols / t.taps;
  for (let r = 0; r < t.rows; r++) {
    const g = Math.floor(r / rowsPerGroup);
    for (let c = 0; c < t.cols; c++) {
      const feature = g * channelsPerGroup + Math.floor(c / t.taps);
      scores[r * t.cols + c] = Math.abs(w[r * t.cols + c]!) * Math.sqrt(s.sumSquares[feature]!);
    }
  }
  return scores;
}

/** SparseGPT per convolution group: the group's rows transposed to [K, N] with its own Hessian. */
function sparseGptRows(t: WeightTarget, w: Float32Array, lp: LayerPlan, nm: { n: number; m: number } | undefined, stats: Statistics, dampPercent: number): Uint8Array {
  const req = gramRequest(t)!;
  const h = stats.get(req as Extract<typeof req, { kind: 'gram' }>);
  if (!h) throw new Error(`no Hessian was collected for ${t.node.name}`);
  const K = t.cols;
  const N = t.rows / t.groups;
  const order = nm ? (nmOrder(K, t.taps, nm.m) as Int32Array) : undefined;
  const mask = new Uint8Array(w.length);
  for (let g = 0; g < t.groups; g++) {
    // [K, N] with the reduction in N:M order (so every group of M is consecutive).
    const kn = new Float32Array(K * N);
    const pos = (p: number) => (order ? order[p]! : p);
    for (let p = 0; p < K; p++) for (let n = 0; n < N; n++) kn[p * N + n] = w[(g * N + n) * K + pos(p)]!;
    const src = h.gram.subarray(g * K * K, (g + 1) * K * K);
    let hp: Float64Array = src;
    if (order) {
      hp = new Float64Array(K * K);
      for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) hp[p * K + q] = src[pos(p) * K + pos(q)]!;
    }
    const m = sparseGpt(kn, K, N, hp, { sparsity: lp.sparsity, ...(nm ? { nm } : {}), dampPercent });
    for (let p = 0; p < K; p++) {
      for (let n = 0; n < N; n++) {
        const i = (g * N + n) * K + pos(p);
        w[i] = kn[p * N + n]!;
        mask[i] = m[p * N + n]!;
      }
    }
  }
  return mask;
}

export function pruneLayer(t: WeightTarget, lp: LayerPlan, nm: { n: number; m: number } | undefined, stats: Statistics | undefined, dampPercent: number): LayerOutcome {
  const w = readRows(t);
  const zerosBefore = countZeros(w);
  let mask: Uint8Array;
  if (lp.method === 'sparsegpt') {
    mask = sparseGptRows(t, w, lp, nm, stats!, dampPercent);
  } else {
    const scores = lp.method === 'wanda' ? wandaScores(t, w, stats!) : w.map(Math.abs);
    if (nm) mask = maskNM(scores, t.rows, t.cols, nmOrder(t.cols, t.taps, nm.m) as Int32Array, nm.n, nm.m);
    // Wanda compares weights within each output (its paper's comparison group); magnitude over the layer.
    else mask = lp.method === 'wanda' ? maskPerRow(scores, t.rows, t.cols, lp.sparsity) : maskLayer(scores, lp.sparsity);
  }
  applyMask(w, mask);
  writeRows(t, w);
  return { zerosBefore, zeros: countZeros(w) };
}
