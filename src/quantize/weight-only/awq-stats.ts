/**
 * The statistics AWQ needs, in one pass over the calibration data: X^T X of every quantized
 * MatMul's input (the output-error objective of the scale and clipping searches) and the mean
 * magnitude E|x| of each input channel (the paper's activation scale, s = E|x|^alpha).
 */
import type { Model } from '../../ir/model.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import type { StatRequest } from '../../calibrate/types.js';
import { DataError } from '../../errors.js';
import type { LinearOp } from '../linear.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

export interface AwqStats {
  /** X^T X (summed over rows) per input value name. */
  gram: Float64Array;
  /** E|x| per input channel. */
  absMean: Float64Array;
}

/** Per input value name; inputs the collector could not observe (inside subgraphs) are absent. */
export async function collectAwqStats(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions): Promise<Map<string, AwqStats>> {
  const mainInputs = new Map<string, number>();
  for (const op of ops) if (op.node.graph === model.graph) mainInputs.set(op.input.name, op.K);
  // X^T X inside ONNX Runtime (the 'gram' statistic), as GPTQ's (gptq-hessians.ts).
  const requests: StatRequest[] = [...mainInputs].flatMap(([tensor, features]): StatRequest[] => [{ tensor, kind: 'gram', features }, { tensor, kind: 'channel-abs-mean', axis: -1 }]);
  const out = new Map<string, AwqStats>();
  if (!requests.length) return out;
  const stats = await collectStatistics(model, o.calibration!, requests, {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  for (const op of ops) {
    const x = stats.get({ tensor: op.input.name, kind: 'gram', features: mainInputs.get(op.input.name)! });
    const a = stats.get({ tensor: op.input.name, kind: 'channel-abs-mean', axis: -1 });
    if (!x || !a) continue;
    if (x.size !== op.K) throw new DataError(`AWQ: input '${op.input.name}' of ${op.node.name} has ${x.size} features, but its weight has K=${op.K}`);
    out.set(op.input.name, { gram: x.gram, absMean: a.means });
  }
  return out;
}
