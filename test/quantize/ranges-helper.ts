/**
 * TEMPORARY test helper until the calibrator (issue 3) is merged: plain min/max ranges of every
 * float tensor of the pre-processed model (If branches included, through the subgraph probe).
 * Replaced by quantize(model, { calibration }) once calibrate() is on main.
 */
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { Feeds } from '../../src/runtime/types.js';
import type { TensorRange } from '../../src/calibrate/types.js';
import { DataType } from '../../src/ir/data-type.js';
import { inferElemTypes } from '../../src/ir/elem-types.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { preprocess } from '../../src/quantize/static/preprocess.js';
import { buildProbe, probeableGraphs } from '../../src/quantize/static/subgraph-probe.js';

export async function calibrationRanges(model: Model, data: string | Feeds, engine: Engine): Promise<Map<string, TensorRange>> {
  const { model: pre } = await preprocess(model, engine, { upgradeTo10: true });
  const types = inferElemTypes(pre.graph);
  const graphs = new Set(probeableGraphs(pre.graph));
  const floats = [...types].filter(([v, t]) => t === DataType.FLOAT && !v.constant && v.graph !== null && graphs.has(v.graph)).map(([v]) => v);
  const probe = buildProbe(pre, floats.map((v) => v.name));
  const main = floats.filter((v) => v.graph === pre.graph && !pre.graph.inputs.includes(v)).map((v) => v.name);
  const session = await engine.createSession(probe.model, { extraOutputs: main });
  const ranges = new Map<string, TensorRange>();
  const add = (name: string, d: Float32Array) => {
    if (d.length === 0) return;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < d.length; i++) {
      if (d[i]! < min) min = d[i]!;
      if (d[i]! > max) max = d[i]!;
    }
    const r = ranges.get(name);
    ranges.set(name, r ? { min: Math.min(r.min, min), max: Math.max(r.max, max) } : { min, max });
  };
  const batches: Feeds[] = [];
  if (typeof data === 'string') for await (const b of new NpzDataset(data, { inputs: pre.graph.inputs.map((v) => v.name) }).batches(100)) batches.push(b.feeds);
  else batches.push(data);
  for (const feeds of batches) {
    for (const [k, t] of Object.entries(feeds)) if (t.data instanceof Float32Array) add(k, t.data);
    for (const [k, t] of Object.entries(await session.run(feeds))) if (t.data instanceof Float32Array) add(probe.aliases.get(k) ?? k, t.data);
  }
  await session.release();
  return ranges;
}
