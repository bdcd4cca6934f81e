/** Test helper: top-1 accuracy and output agreement of classifier models on an npz test set, through the real runtime. */
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { TensorData } from '../../src/runtime/types.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { encodeFloat16 } from '../../src/ir/float-formats.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';

export interface ClassifierRun {
  top1: number;
  /** Output logits of every sample, concatenated. */
  logits: Float32Array;
}

export async function runClassifier(engine: Engine, model: Model | string, dataPath: string, options: { limit?: number; batch?: number; config?: Record<string, string> } = {}): Promise<ClassifierRun> {
  const data = new NpzDataset(dataPath);
  const session = await engine.createSession(model, options.config ? { config: options.config } : {});
  const parts: Float32Array[] = [];
  let correct = 0;
  let total = 0;
  try {
    // Models with float16 inputs (float16 I/O) are fed the data rounded to float16.
    const half = new Set(session.info.inputs.filter((i) => i.type === 'float16').map((i) => i.name));
    for await (const batch of data.batches(options.batch ?? 250, { limit: options.limit })) {
      const feeds: Record<string, TensorData> = {};
      for (const [k, t] of Object.entries(batch.feeds)) feeds[k] = half.has(k) ? { type: 'float16', dims: t.dims, data: encodeFloat16(t.data as Float32Array) } : t;
      const out = await session.run(feeds);
      const logits = Object.values(out)[0] as TensorData;
      const classes = logits.dims[1]!;
      const values = asFloat32(logits);
      const labels = batch.labels!.data as BigInt64Array | Int32Array | Uint8Array;
      for (let i = 0; i < batch.count; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (values[i * classes + c]! > values[i * classes + best]!) best = c;
        if (best === Number(labels[i]!)) correct++;
      }
      total += batch.count;
      parts.push(Float32Array.from(values));
    }
  } finally {
    await session.release();
  }
  const logits = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) { logits.set(p, off); off += p.length; }
  return { top1: correct / total, logits };
}

/** ||a - b|| / ||b||. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let r = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    r += b[i]! ** 2;
  }
  return Math.sqrt(e / r);
}
