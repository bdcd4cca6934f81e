/**
 * What evaluate, per-layer analysis and benchmark share: models given as a path or as IR, and
 * feeding a dataset's batches to sessions.
 */
import type { Model } from '../ir/model.js';
import { loadModel } from '../onnx/io.js';
import { checkRuntimeSupport } from '../runtime/ort-support.js';
import type { Session, Feeds } from '../runtime/types.js';
import type { Dataset } from '../calibrate/data/dataset.js';
import { DataError, RuntimeError, errorMessage } from '../errors.js';
import type { Batch } from '../calibrate/data/dataset.js';
import type { TensorData } from '../runtime/types.js';

/** A model as the evaluator sees it: the IR (for hashes, sizes, structure) and where it came from. */
export interface ModelRef {
  model: Model;
  /** The file it was loaded from; sessions load the file itself when there is one. */
  path?: string;
  label: string;
}

export function modelRef(m: Model | string): ModelRef {
  if (typeof m === 'string') {
    const model = loadModel(m);
    // A version ONNX Runtime cannot load is named now, before the other model's work.
    checkRuntimeSupport(model, m);
    return { model, path: m, label: m };
  }
  // An IR model may differ from the file it came from: say so, since its hash is of the encoded bytes.
  return { model: m, label: `${m.label()} (in memory)` };
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

/** Runs one batch; a failure names the model and the samples (ONNX Runtime names only the node). */
export async function runBatch(session: Session, label: string, batch: Batch, fetch: string[]): Promise<Record<string, TensorData>> {
  try {
    return await session.run(feedsFor(session, batch.feeds), fetch);
  } catch (err) {
    if (!(err instanceof RuntimeError)) throw err;
    throw new RuntimeError(`${label}: inference failed on samples ${batch.first}..${batch.first + batch.count - 1}: ${errorMessage(err)}`);
  }
}
