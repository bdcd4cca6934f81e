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
import type { Solver } from './solver-pool.js';

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

/** SparseGPT per convolution group: the group's rows transposed to [K, N] with its own Hessian, solved on the pool. */
async function sparseGptRows(t: WeightTarget, w: Float32Array, lp: LayerPlan, nm: { n: number; m: number } | undefined, stats: Statistics, dampPercent: number, pool: Solver): Promise<Uint8Array> {
  const req = gramRequest(t)!;
  const h = stats.get(req as Extract<typeof req, { kind: 'gram' }>);
  if (!h) throw new Error(`no Hessian was collected for ${t.node.name}`);
  const K = t.cols;
  const N = t.rows / t.groups;
  const order = nm ? (nmOrder(K, t.taps, nm.m) as Int32Array) : undefined;
  const pos = (p: number) => (order ? order[p]! : p);
  const mask = new Uint8Array(w.length);
  await Promise.all(Array.from({ length: t.groups }, async (_, g) => {
    // [K, N] with the reduction in N:M order (so every group of M is consecutive).
    const kn = new Float32Array(K * N);
    for (let p = 0; p < K; p++) for (let n = 0; n < N; n++) kn[p * N + n] = w[(g * N + n) * K + pos(p)]!;
    const src = h.gram.subarray(g * K * K, (g + 1) * K * K);
    const hp = new Float64Array(K * K);
    if (order) for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) hp[p * K + q] = src[pos(p) * K + pos(q)]!;
    else hp.set(src);
    const r = await pool.solve(kn, K, N, hp, { sparsity: lp.sparsity, ...(nm ? { nm } : {}), dampPercent });
    for (let p = 0; p < K; p++) {
      for (let n = 0; n < N; n++) {
        const i = (g * N + n) * K + pos(p);
        w[i] = r.w[p * N + n]!;
        mask[i] = r.mask[p * N + n]!;
      }
    }
  }));
  return mask;
}

/** Magnitude and Wanda: scores, mask, zeros (synchronous). */
export function pruneByScore(t: WeightTarget, lp: LayerPlan, nm: { n: number; m: number } | undefined, stats: Statistics | undefined): LayerOutcome {
  const w = readRows(t);
  const zerosBefore = countZeros(w);
  const scores = lp.method === 'wanda' ? wandaScores(t, w, stats!) : w.map(Math.abs);
  let mask: Uint8Array;
  if (nm) mask = maskNM(scores, t.rows, t.cols, nmOrder(t.cols, t.taps, nm.m) as Int32Array, nm.n, nm.m);
  // Wanda compares weights within each output (its paper's comparison group); magnitude over the layer.
  else mask = lp.method === 'wanda' ? maskPerRow(scores, t.rows, t.cols, lp.sparsity) : maskLayer(scores, lp.sparsity);
  applyMask(w, mask);
  writeRows(t, w);
  return { zerosBefore, zeros: countZeros(w) };
}

export async function pruneLayer(t: WeightTarget, lp: LayerPlan, nm: { n: number; m: number } | undefined, stats: Statistics | undefined, dampPercent: number, pool?: Solver): Promise<LayerOutcome> {
  if (lp.method !== 'sparsegpt') return pruneByScore(t, lp, nm, stats);
  const w = readRows(t);
  const zerosBefore = countZeros(w);
  const mask = await sparseGptRows(t, w, lp, nm, stats!, dampPercent, pool!);
  applyMask(w, mask);
  writeRows(t, w);
  return { zerosBefore, zeros: countZeros(w) };
}
