/**
 * The statistics GPTQ needs: X^T X of every quantized MatMul's input, requested from the
 * calibration collector in one pass over the data (inputs shared by several MatMuls, such as the
 * Q/K/V projections, are collected once). Computed inside ONNX Runtime (the 'gram' statistic): as a
 * loop in JS, X^T X of a 2-layer decoder at TinyLlama widths took minutes per pass.
 */
import type { Model } from '../../ir/model.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import type { StatRequest } from '../../calibrate/types.js';
import { DataError } from '../../errors.js';
import type { LinearOp } from '../linear.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

/** X^T X per input value name; inputs the collector could not observe (inside subgraphs) are absent. */
export async function collectHessians(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions): Promise<Map<string, Float64Array>> {
  const mainInputs = new Map<string, number>();
  for (const op of ops) if (op.node.graph === model.graph) mainInputs.set(op.input.name, op.K);
  const requests: StatRequest[] = [...mainInputs].map(([tensor, features]) => ({ tensor, kind: 'gram', features }));
  const out = new Map<string, Float64Array>();
  if (!requests.length) return out;
  const stats = await collectStatistics(model, o.calibration!, requests, {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  for (const op of ops) {
    const s = stats.get({ tensor: op.input.name, kind: 'gram', features: mainInputs.get(op.input.name)! });
    if (!s) continue;
    if (s.size !== op.K) throw new DataError(`GPTQ: input '${op.input.name}' of ${op.node.name} has ${s.size} features, but its weight has K=${op.K}`);
    out.set(op.input.name, s.gram);
  }
  return out;
}
