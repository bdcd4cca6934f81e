/**
 * The statistics pruning asks the calibrator for, all in one pass over the data: input-channel
 * norms (Wanda, activation-aware channel scores) and Gram matrices of layer inputs (SparseGPT's
 * Hessians, least-squares reconstruction), computed inside ONNX Runtime.
 */
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { StatRequest } from '../calibrate/types.js';
import { collectStatistics } from '../calibrate/stats/collector.js';
import { convPatches } from '../calibrate/stats/gram.js';
import type { Statistics } from '../calibrate/stats/statistics.js';
import type { ResolvedPruneOptions } from './options.js';
import type { WeightTarget } from './targets.js';

/** Sum of squares per input feature of the activation a target multiplies (Wanda's ||X_j||). */
export function normRequest(t: WeightTarget): StatRequest {
  return { tensor: t.input.name, kind: 'channel-l2', axis: t.inputAxis };
}

/** The Conv attributes as patch geometry (kernel from the weight when the attribute is absent). */
export function patchesOf(node: Node, weightDims: readonly number[]): ReturnType<typeof convPatches> {
  const kernel = node.getInts('kernel_shape') ?? weightDims.slice(2);
  const p = convPatches({
    kernel,
    ...(node.getInts('strides') ? { strides: node.getInts('strides')! } : {}),
    ...(node.getInts('pads') ? { pads: node.getInts('pads')! } : {}),
    ...(node.getInts('dilations') ? { dilations: node.getInts('dilations')! } : {}),
    group: node.getInt('group', 1),
  });
  const autoPad = node.getString('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET') p.autoPad = autoPad;
  return p;
}

/** X^T X of what a Conv, MatMul or Gemm multiplies with its weight; undefined for ConvTranspose. */
export function gramRequest(t: WeightTarget, bias = false): StatRequest | undefined {
  if (t.kind === 'convtranspose') return undefined;
  const base = { tensor: t.input.name, kind: 'gram' as const, features: t.inputFeatures, ...(bias ? { bias } : {}) };
  return t.kind === 'conv' ? { ...base, conv: patchesOf(t.node, t.dims) } : base;
}

export async function collectPruneStats(model: Model, requests: StatRequest[], o: ResolvedPruneOptions): Promise<Statistics> {
  return collectStatistics(model, o.calibration!, requests, {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
}
