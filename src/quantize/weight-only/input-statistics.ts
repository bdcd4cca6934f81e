/**
 * The calibration pass GPTQ and AWQ share: for every quantized MatMul input of the main graph
 * (inputs read by several MatMuls, such as Q/K/V's, once), X^T X computed inside ONNX Runtime (the
 * 'gram' statistic: as a loop in JS, X^T X of a 2-layer decoder at TinyLlama widths took minutes),
 * plus whatever else the algorithm asks for per input, in one pass over the data. Inputs the
 * collector cannot observe (inside subgraphs) get nothing: those MatMuls fall back to RTN.
 */
import type { Model } from '../../ir/model.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { StatRequest } from '../../calibrate/types.js';
import { DataError } from '../../errors.js';
import type { LinearOp } from '../linear.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

export interface InputStatistics {
  stats: Statistics;
  /** X^T X of `op`'s input, or undefined when it was not observed. */
  gram(op: LinearOp): Float64Array | undefined;
}

export async function collectInputStatistics(
  model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions, algorithm: string, extra: (tensor: string) => StatRequest[] = () => [],
): Promise<InputStatistics | undefined> {
  const features = new Map<string, number>();
  for (const op of ops) if (op.node.graph === model.graph) features.set(op.input.name, op.K);
  if (!features.size) return undefined;
  const requests = [...features].flatMap(([tensor, k]): StatRequest[] => [{ tensor, kind: 'gram', features: k }, ...extra(tensor)]);
  const stats = await collectStatistics(model, o.calibration!, requests, {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return {
    stats,
    gram(op) {
      const k = features.get(op.input.name);
      const s = k === undefined ? undefined : stats.get({ tensor: op.input.name, kind: 'gram', features: k });
      if (!s) return undefined;
      if (s.size !== op.K) throw new DataError(`${algorithm}: input '${op.input.name}' of ${op.node.name} has ${s.size} features, but its weight has K=${op.K}`);
      return s.gram;
    },
  };
}
