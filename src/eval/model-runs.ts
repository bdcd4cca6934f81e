/**
 * What evaluate, per-layer analysis and benchmark share: models given as a path or as IR, and
 * running a dataset through sessions in batches the models accept.
 */
import type { Model } from '../ir/model.js';
import { loadModel } from '../onnx/io.js';
import type { Session, TensorData, Feeds } from '../runtime/types.js';
import type { Batch, Dataset } from '../calibrate/data/dataset.js';
import { sliceRows, concatRows } from '../calibrate/data/dataset.js';
import { DataError, throwIfAborted } from '../errors.js';

/** A model as the evaluator sees it: the IR (for hashes, sizes, structure) and where it came from. */
export interface ModelRef {
  model: Model;
  /** The file it was loaded from; sessions load the file itself when there is one. */
  path?: string;
  label: string;
}

export function modelRef(m: Model | string): ModelRef {
  if (typeof m === 'string') return { model: loadModel(m), path: m, label: m };
  // An IR model may differ from the file it came from: say so, since its hash is of the encoded bytes.
  return { model: m, label: `${m.label()} (in memory)` };
}

/** The batch size a session's inputs fix (first dimension a number), or undefined when symbolic. */
export function fixedBatch(session: Session): number | undefined {
  let fixed: number | undefined;
  for (const i of session.info.inputs) {
    const d = i.shape?.[0];
    if (typeof d === 'number' && d > 0) fixed = fixed === undefined ? d : Math.min(fixed, d);
  }
  return fixed;
}

/** Checks that the data provides every model input, before any inference. */
export function checkDataInputs(data: Dataset, sessions: { session: Session; label: string }[]): void {
  for (const { session, label } of sessions) {
    const missing = session.info.inputNames.filter((n) => !data.inputNames.includes(n));
    if (missing.length) {
      throw new DataError(`${data.source}: no array for input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} of ${label} (the data has: ${data.inputNames.join(', ')}); name the arrays after the model inputs`);
    }
  }
}

/** Feeds restricted to a session's inputs. */
export function feedsFor(session: Session, feeds: Feeds): Feeds {
  const out: Feeds = {};
  for (const n of session.info.inputNames) out[n] = feeds[n]!;
  return out;
}

/**
 * Batches of `batchSize` samples. With `pad` (a model whose batch dimension is fixed), a short last
 * batch is filled up by repeating its first sample; `count` stays the number of real samples, so
 * callers trim outputs with `trimRows`.
 */
export async function* batchesOf(data: Dataset, batchSize: number, options: { limit?: number; signal?: AbortSignal; pad?: boolean } = {}): AsyncIterable<Batch> {
  for await (const b of data.batches(batchSize, { limit: options.limit, signal: options.signal })) {
    throwIfAborted(options.signal, 'evaluation');
    if (!options.pad || b.count === batchSize) { yield b; continue; }
    const feeds: Feeds = {};
    for (const [k, t] of Object.entries(b.feeds)) feeds[k] = concatRows([t, ...Array.from({ length: batchSize - b.count }, () => sliceRows(t, 0, 1))]);
    yield { ...b, feeds };
  }
}

/** Outputs cut back to the batch's real samples (after padding). */
export function trimRows(outputs: Record<string, TensorData>, count: number): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(outputs)) out[k] = t.dims.length && t.dims[0]! > count ? sliceRows(t, 0, count) : t;
  return out;
}
