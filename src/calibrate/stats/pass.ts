/**
 * One pass of the data through a probe: batches go to the worker while the reducers fold the
 * previous batch on this thread, so reduction mostly hides behind inference.
 */
import type { Session, TensorData } from '../../runtime/types.js';
import { asFloat32 } from '../../runtime/tensor-data.js';
import { RuntimeError, errorMessage, throwIfAborted } from '../../errors.js';
import type { ProgressTracker } from '../../progress.js';
import type { Batch } from '../data/dataset.js';
import type { ModelDataset } from '../data/model-dataset.js';
import type { DataHasher } from '../data/data-hash.js';
import type { Probe } from './probe.js';
import type { BatchValues, Reducer } from './reducer.js';

export interface PassInput {
  dataset: Pick<ModelDataset, 'source' | 'batchSize' | 'batches'>;
  /** Absent when only graph inputs are observed (no inference needed). */
  session?: Session;
  probe?: Probe;
  /** Reducers per tensor observed in this pass. */
  reducers: Map<string, Reducer[]>;
  /** For each sampled tensor, fetch it on every n-th batch (spread: each tensor has its own phase). */
  every?: Map<string, number>;
  hasher?: DataHasher;
  progress: ProgressTracker;
  /** Samples counted by earlier passes (for progress). */
  offset: number;
  signal?: AbortSignal;
  /** Values fetched on every batch and handed on with it (layer-by-layer calibration). */
  capture?: { outputs: readonly string[]; onBatch(batch: Batch, outputs: Record<string, TensorData>): void };
}

const IN_FLIGHT = 2;

interface InFlight {
  batch: Batch;
  outputs: Promise<Record<string, TensorData>>;
}

export async function runPass(p: PassInput): Promise<{ samples: number; batches: number }> {
  const iterator = p.dataset.batches(p.dataset.batchSize, p.signal ? { signal: p.signal } : {})[Symbol.asyncIterator]();
  let index = 0;
  const launch = async (): Promise<InFlight | undefined> => {
    throwIfAborted(p.signal, 'calibration');
    const next = await iterator.next();
    if (next.done) return undefined;
    const batch = next.value;
    p.hasher?.update(batch.feeds, batch.count);
    const fetch = fetchList(p, index++);
    const outputs = p.session && fetch.length ? p.session.run(batch.feeds, fetch) : Promise.resolve({});
    outputs.catch(() => {}); // awaited below; no unhandled rejection while the previous batch is reduced
    return { batch, outputs };
  };
  let seen = 0;
  let batches = 0;
  // Two batches in flight: the worker starts the next one the moment it finishes the current, while
  // this thread reads data and runs the reducers.
  const queue: InFlight[] = [];
  const fill = async () => {
    while (queue.length < IN_FLIGHT) {
      const f = await launch();
      if (!f) return;
      queue.push(f);
    }
  };
  await fill();
  while (queue.length) {
    const current = queue.shift()!;
    const { batch } = current;
    let outputs: Record<string, TensorData>;
    try {
      outputs = await current.outputs;
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      throw new RuntimeError(`${p.dataset.source}: inference failed on samples ${batch.first}..${batch.first + batch.count - 1}: ${errorMessage(err)}`);
    }
    await fill();
    p.capture?.onBatch(batch, outputs);
    const unpacked = unpack(p.probe, outputs);
    for (const [name, reducers] of p.reducers) {
      const values = batchValues(name, unpacked, outputs, batch, seen);
      for (const r of reducers) r.update(values);
    }
    seen += batch.count;
    batches++;
    p.progress.update(p.offset + seen);
  }
  return { samples: seen, batches };
}

/** What to fetch for batch `i`: the packed extremes, full tensors, and the samples due on this batch. */
function fetchList(p: PassInput, i: number): string[] {
  const probe = p.probe;
  if (!probe) return [];
  const out = probe.extremesOutput ? [probe.extremesOutput, ...probe.full] : [...probe.full];
  for (const name of p.capture?.outputs ?? []) if (!out.includes(name)) out.push(name);
  probe.sampled.forEach((name, k) => {
    const every = p.every?.get(name) ?? 1;
    if ((i + k) % every === 0) out.push(name);
  });
  return out;
}

interface Unpacked {
  extremes: Map<string, [number, number]>;
}

/** Splits the packed outputs back into per-tensor views (no copies). */
function unpack(probe: Probe | undefined, outputs: Record<string, TensorData>): Unpacked {
  const u: Unpacked = { extremes: new Map() };
  if (!probe) return u;
  if (probe.extremesOutput) {
    const e = asFloat32(outputs[probe.extremesOutput]!);
    const n = probe.maxNames.length;
    probe.maxNames.forEach((name, i) => u.extremes.set(name, [0, e[i]!]));
    probe.minNames.forEach((name, i) => { u.extremes.get(name)![0] = e[n + i]!; });
  }
  return u;
}

function batchValues(name: string, u: Unpacked, outputs: Record<string, TensorData>, batch: Batch, seen: number): BatchValues {
  const b: BatchValues = { dims: [], samples: batch.count, seen };
  const input = batch.feeds[name];
  if (input) {
    // A graph input: its values are the feed itself.
    b.values = asFloat32(input);
    b.dims = input.dims;
    return b;
  }
  const ext = u.extremes.get(name);
  if (ext) {
    b.rowMin = Float32Array.of(ext[0]);
    b.rowMax = Float32Array.of(ext[1]);
  }
  const full = outputs[name];
  if (full) {
    b.values = asFloat32(full);
    b.dims = full.dims;
  }
  return b;
}
