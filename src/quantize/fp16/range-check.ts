/**
 * Runs the float32 model on data and reports the values (in the main graph) whose magnitude goes
 * beyond the float16 range, with the largest magnitude seen: those must stay float32.
 */
import type { Model } from '../../ir/model.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import type { StatRequest } from '../../calibrate/types.js';
import { DataType } from '../../ir/data-type.js';
import type { ElemTypes } from './plan.js';
import { FP16_MAX } from './plan.js';
import type { ResolvedFp16Options } from './options.js';

export async function valuesBeyondFp16(model: Model, types: ElemTypes, o: ResolvedFp16Options): Promise<Map<string, number>> {
  const requests: StatRequest[] = [];
  for (const v of model.graph.values()) {
    if (v.constValue || types.get(v) !== DataType.FLOAT) continue;
    requests.push({ tensor: v.name, kind: 'minmax' });
  }
  const stats = await collectStatistics(model, o.calibration!, requests, {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const beyond = new Map<string, number>();
  for (const r of requests) {
    const s = stats.minmax(r.tensor);
    if (!s) continue;
    const max = Math.max(Math.abs(s.min), Math.abs(s.max));
    if (Number.isFinite(max) && max > FP16_MAX) beyond.set(r.tensor, max);
  }
  return beyond;
}
