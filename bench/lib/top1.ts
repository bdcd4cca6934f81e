/**
 * Minimal classification accuracy for the benchmark and the demo (top-1 against the `labels` array
 * of an .npz), until the evaluator's evaluate() is on main.
 */
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';

export async function top1(engine: Engine, model: Model | string, npzPath: string): Promise<number> {
  const session = await engine.createSession(model);
  let correct = 0;
  let total = 0;
  try {
    for await (const b of new NpzDataset(npzPath, { inputs: session.info.inputNames }).batches(250)) {
      const out = Object.values(await session.run(b.feeds))[0]!;
      const logits = out.data as Float32Array;
      const classes = out.dims[out.dims.length - 1]!;
      const labels = b.labels!.data as ArrayLike<number | bigint>;
      for (let i = 0; i < b.count; i++) {
        let best = 0;
        for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + best]!) best = j;
        if (best === Number(labels[i])) correct++;
        total++;
      }
    }
  } finally {
    await session.release();
  }
  return correct / total;
}
