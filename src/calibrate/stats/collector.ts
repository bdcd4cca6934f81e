/**
 * The statistics collector: merges every algorithm's requests, builds one probe (the model with the
 * requested tensors as extra outputs), runs the data through it once and streams each batch through
 * the reducers. While the reducers work on batch i on this thread, the worker already runs batch
 * i+1, so reduction mostly hides behind inference.
 */
import type { Model } from '../../ir/model.js';
import { Engine } from '../../runtime/engine.js';
import type { Feeds, Session, SessionOptions, TensorData } from '../../runtime/types.js';
import { asFloat32 } from '../../runtime/tensor-data.js';
import { DataError, RuntimeError, throwIfAborted, errorMessage } from '../../errors.js';
import { ProgressTracker, type ProgressListener } from '../../progress.js';
import type { StatRequest } from '../types.js';
import { openDataset, type DataSource, type OpenDatasetOptions } from '../data/open.js';
import type { Batch } from '../data/dataset.js';
import { DataHasher } from '../data/data-hash.js';
import { createReducer, type Reducer } from './reducer.js';
import { statKey, type StatResult } from './results.js';
import { Statistics } from './statistics.js';
import { resolveTensors } from './tensors.js';

export interface CollectOptions {
  /** Engine to run on (default: a private one, closed afterwards). */
  engine?: Engine;
  /** Options for the probe session (threads, providers). */
  session?: SessionOptions;
  /** How to bind `data` to the model when it is a path or an unbound Dataset (limit, batch size). */
  data?: OpenDatasetOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);

interface InFlight {
  batch: Batch;
  outputs: Promise<Record<string, TensorData>>;
}

/**
 * Collects the requested statistics over the data in one pass. Requests on the same tensor and of
 * the same kind share a reducer. Stable entry point for algorithms that need more than ranges
 * (GPTQ's `xtx`, Wanda's `channel-l2`).
 */
export async function collectStatistics(model: Model, data: DataSource, requests: readonly StatRequest[], options: CollectOptions = {}): Promise<Statistics> {
  const dataset = await openDataset(data, model, options.data);
  const reducers = new Map<string, Reducer>();
  for (const r of requests) if (!reducers.has(statKey(r))) reducers.set(statKey(r), createReducer(r));
  const byTensor = new Map<string, Reducer[]>();
  for (const red of reducers.values()) byTensor.set(red.request.tensor, [...(byTensor.get(red.request.tensor) ?? []), red]);
  const { intermediates } = resolveTensors(model, byTensor.keys());
  const notes: string[] = [];

  const engine = options.engine ?? new Engine(options.session ?? {});
  let session: Session | undefined;
  try {
    if (intermediates.length) session = await engine.createSession(model, { ...options.session, extraOutputs: intermediates });
    let fetch = [...intermediates];
    const hasher = new DataHasher();
    const progress = new ProgressTracker('calibrate', dataset.size, options.onProgress);
    const iterator = dataset.batches(dataset.batchSize, options.signal ? { signal: options.signal } : {})[Symbol.asyncIterator]();
    const launch = async (): Promise<InFlight | undefined> => {
      throwIfAborted(options.signal, 'calibration');
      const next = await iterator.next();
      if (next.done) return undefined;
      const batch = next.value;
      hasher.update(batch.feeds, batch.count);
      const outputs = session && fetch.length ? session.run(batch.feeds, fetch) : Promise.resolve({});
      outputs.catch(() => {}); // awaited below; avoid an unhandled rejection while the previous batch is reduced
      return { batch, outputs };
    };
    let seen = 0;
    let batches = 0;
    progress.update(0);
    let current = await launch();
    while (current) {
      const { batch } = current;
      const outputs = await runOrExplain(current.outputs, dataset.source, batch);
      const next = await launch();
      const tensors: Feeds = { ...outputs };
      for (const [name, t] of Object.entries(batch.feeds)) if (byTensor.has(name)) tensors[name] = t;
      for (const [name, t] of Object.entries(tensors)) {
        const reds = byTensor.get(name);
        if (!reds) continue;
        if (!FLOAT_TYPES.has(t.type)) {
          // Types of intermediate values are often undeclared; stop fetching non-float ones.
          notes.push(`tensor '${name}' is ${t.type}, not float; no statistics collected on it`);
          byTensor.delete(name);
          for (const r of reds) reducers.delete(statKey(r.request));
          fetch = fetch.filter((f) => f !== name);
          continue;
        }
        const values = asFloat32(t);
        for (const r of reds) r.update(values, t.dims, batch.count, seen);
      }
      seen += batch.count;
      batches++;
      progress.update(seen);
      current = next;
    }
    if (seen === 0) throw new DataError(`${dataset.source}: no samples to calibrate on (the data set is empty)`);
    notes.push(...dataset.notes);
    const results = new Map<string, StatResult>();
    for (const [key, r] of reducers) results.set(key, r.result());
    return new Statistics(results, seen, batches, hasher.digest(), notes);
  } finally {
    await session?.release().catch(() => {});
    if (!options.engine) await engine.close();
  }
}

async function runOrExplain(outputs: Promise<Record<string, TensorData>>, source: string, batch: Batch): Promise<Record<string, TensorData>> {
  try {
    return await outputs;
  } catch (err) {
    if (!(err instanceof RuntimeError)) throw err;
    throw new RuntimeError(`${source}: inference failed on samples ${batch.first}..${batch.first + batch.count - 1}: ${errorMessage(err)}`);
  }
}
