/**
 * The statistics AWQ needs, in one pass over the calibration data: X^T X of every quantized
 * MatMul's input (the output-error objective of the scale and clipping searches) and the mean
 * magnitude E|x| of each input channel (the paper's activation scale, s = E|x|^alpha).
 */
import type { Model } from '../../ir/model.js';
import type { StatRequest } from '../../calibrate/types.js';
import { collectInputStatistics, type InputStatistics } from './input-statistics.js';
import type { LinearOp } from '../linear.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

export interface AwqStats {
  /** X^T X (summed over rows) per input value name. */
  gram: Float64Array;
  /** E|x| per input channel. */
  absMean: Float64Array;
}

/** What AWQ asks for besides X^T X, per input. */
export const awqExtraRequests = (tensor: string): StatRequest[] => [{ tensor, kind: 'channel-abs-mean', axis: -1 }];

/** Per input value name, from collected statistics; inputs not observed are absent. */
export function awqStatsOf(collected: InputStatistics | undefined, ops: readonly LinearOp[]): Map<string, AwqStats> {
  const out = new Map<string, AwqStats>();
  if (!collected) return out;
  for (const op of ops) {
    const gram = collected.gram(op);
    const a = collected.stats.get({ tensor: op.input.name, kind: 'channel-abs-mean', axis: -1 });
    if (gram && a) out.set(op.input.name, { gram, absMean: a.means });
  }
  return out;
}

/** Over the whole model in one run; inputs inside subgraphs are absent. */
export async function collectAwqStats(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions): Promise<Map<string, AwqStats>> {
  return awqStatsOf(await collectInputStatistics(model, ops, o, 'AWQ', awqExtraRequests), ops);
}
