/**
 * The statistics collector: merges every algorithm's requests, builds one probe (the model plus
 * ReduceMin/ReduceMax packed into one output, and the requested tensors as outputs fetched on every
 * batch or, for histograms, on a spread subset of batches), runs the data through it once and
 * streams each batch through the reducers. When the tensors one batch
 * would hand back do not fit the memory budget, it lowers the batch size, then splits the tensors
 * into groups with one pass each, and says so.
 */
import { totalmem } from 'node:os';
import type { Model } from '../../ir/model.js';
import { Engine } from '../../runtime/engine.js';
import type { SessionOptions, TensorData } from '../../runtime/types.js';
import type { Batch, BatchOptions } from '../data/dataset.js';
import type { ModelDataset } from '../data/model-dataset.js';
import { DataError } from '../../errors.js';
import { ProgressTracker, type ProgressListener } from '../../progress.js';
import type { StatRequest } from '../types.js';
import { openDataset, type DataSource, type OpenDatasetOptions } from '../data/open.js';
import { DataHasher } from '../data/data-hash.js';
import { createReducer, type Reducer } from './reducer.js';
import { statKey, type StatResult } from './results.js';
import { Statistics } from './statistics.js';
import { nonNegativeTensors, resolveTensors } from './tensors.js';
import { discoverTensors, valuesPerSample, type TensorInfo } from './discover.js';
import { buildProbe, type ProbeRequest } from './probe.js';
import { runPass } from './pass.js';

export interface CollectOptions {
  /** Engine to run on (default: a private one, closed afterwards). */
  engine?: Engine;
  /** Options for the probe session (threads, providers). */
  session?: SessionOptions;
  /** How to bind `data` to the model when it is a path or an unbound Dataset (limit, batch size). */
  data?: OpenDatasetOptions;
  /**
   * Values a histogram reads per tensor over the whole run: the tensor is fetched whole on every
   * n-th batch, spread over the run (exact min/max still come from every batch, inside the
   * runtime). Default 131,072 (2^17: 64 values per bin of a 2048-bin entropy search); 0 reads every batch.
   */
  histogramSample?: number;
  /** Bytes the tensors fetched for one batch may take (default 1/8 of RAM, within 256 MiB..4 GiB). */
  memoryBudget?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /**
   * Layer-by-layer calibration (calibrate/layered): values fetched on every batch besides the
   * statistics, handed with the batch to `onBatch` (in data order, one pass only).
   */
  capture?: { outputs: readonly string[]; onBatch(batch: Batch, outputs: Record<string, TensorData>): void };
}

/**
 * Batches already shaped for the model, used as they are (no binding, no re-batching): the
 * activations one part of a model hands on to the next in layer-by-layer calibration.
 */
export interface ReadyBatches {
  readonly ready: true;
  readonly source: string;
  readonly size: number;
  readonly batchSize: number;
  readonly sampleInfo: Readonly<Record<string, { type: TensorData['type']; dims: number[] }>>;
  readonly notes: string[];
  batches(batchSize?: number, options?: BatchOptions): AsyncIterable<Batch>;
}

function isReady(data: DataSource | ReadyBatches): data is ReadyBatches {
  return typeof data === 'object' && data !== null && 'ready' in data && data.ready === true;
}

export const DEFAULT_HISTOGRAM_SAMPLE = 2 ** 17;
/**
 * Activations (every observed tensor, float32) one batch may hold before its size costs speed: the
 * runtime's first touches of a large arena and the cache misses outweigh what batching saves. On
 * ResNet-50 at 224 x 224 (101 MiB of observed activations a sample), 16 calibration images took
 * 5.5 s at batch 1, 7.3 s at 2, 12.1 s at 4 and 16.5-42 s at 8 (AMD EPYC, 1 thread, loaded
 * machine); the 28 x 28 fixtures (0.3-2.4 MiB a sample) keep the default batch of 16. A batch
 * size the caller chose is kept (within the memory budget).
 */
export const FAST_BATCH_BYTES = 64 * 2 ** 20;
const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);

function defaultBudget(): number {
  return Math.min(4 * 2 ** 30, Math.max(256 * 2 ** 20, totalmem() / 8));
}

/**
 * Collects the requested statistics over the data in one pass. Requests on the same tensor and of
 * the same kind share a reducer. Stable entry point for algorithms that need more than ranges
 * (GPTQ's `xtx`, Wanda's `channel-l2`).
 */
export async function collectStatistics(model: Model, data: DataSource | ReadyBatches, requests: readonly StatRequest[], options: CollectOptions = {}): Promise<Statistics> {
  let dataset: ModelDataset | ReadyBatches = isReady(data) ? data : await openDataset(data, model, { ...options.data, ...(options.signal ? { signal: options.signal } : {}) });
  const reducers = new Map<string, Reducer>();
  for (const r of requests) if (!reducers.has(statKey(r))) reducers.set(statKey(r), createReducer(r, model.opset('') ?? 21));
  const byTensor = new Map<string, Reducer[]>();
  // Reductions computed inside the runtime (Gram matrices) get a probe output of their own.
  const derived = new Map<string, Reducer>();
  for (const red of reducers.values()) {
    if (red.needs === 'derived') derived.set(`${red.request.tensor}__slimnet_${red.request.kind}_${derived.size}`, red);
    else byTensor.set(red.request.tensor, [...(byTensor.get(red.request.tensor) ?? []), red]);
  }
  const { inputs, intermediates } = resolveTensors(model, [...byTensor.keys(), ...[...derived.values()].map((r) => r.request.tensor)]);
  const notes: string[] = [];
  const engine = options.engine ?? new Engine({ ...options.session, signal: options.signal });
  try {
    const info = await discoverTensors(engine, model, intermediates, options.session);
    const drop = (name: string, why: string) => {
      notes.push(`tensor '${name}' ${why}; no statistics collected on it`);
      for (const r of byTensor.get(name) ?? []) reducers.delete(statKey(r.request));
      byTensor.delete(name);
      for (const [out, r] of derived) if (r.request.tensor === name) { reducers.delete(statKey(r.request)); derived.delete(out); }
    };
    for (const name of inputs) if (!FLOAT_TYPES.has(dataset.sampleInfo[name]?.type ?? '')) drop(name, `is ${dataset.sampleInfo[name]?.type}, not float`);
    const observed = intermediates.filter((name) => {
      const type = info.get(name)?.type ?? 'unknown';
      if (!FLOAT_TYPES.has(type)) drop(name, `is ${type}, not float`);
      return FLOAT_TYPES.has(type);
    });
    const perRun = options.histogramSample ?? DEFAULT_HISTOGRAM_SAMPLE;
    const perSample = new Map(observed.map((n) => [n, valuesPerSample(info.get(n))]));
    const nonNegative = nonNegativeTensors(model);
    const plan: ProbeRequest[] = observed.filter((name) => byTensor.has(name)).map((name) => ({ ...planTensor(name, byTensor.get(name)!, info.get(name)!, perRun > 0), ...(nonNegative.has(name) ? { nonNegative: true } : {}) }));
    const derivedBytes = new Map<string, number>();
    for (const [out, r] of derived) {
      const source = r.request.tensor;
      const type = inputs.includes(source) ? dataset.sampleInfo[source]?.type ?? 'float32' : info.get(source)!.type;
      plan.push({ name: out, type, extremes: false, sample: false, full: true, derived: { source, build: (b, x, name) => r.derive!(b, x, name) } });
      derivedBytes.set(out, r.derivedBytes ?? 0);
    }
    // Memory: lower the batch size first, then split the tensors into passes.
    const budget = options.memoryBudget ?? defaultBudget();
    const bytesPerBatch = (r: ProbeRequest, batch: number) => (r.derived ? 2 * derivedBytes.get(r.name)! : 2 * 4 * (r.full || r.sample ? perSample.get(r.name)! * batch : 2));
    const total = (batch: number) => plan.reduce((s, r) => s + bytesPerBatch(r, batch), 0);
    let batchSize = dataset.batchSize;
    const resizable = !isReady(dataset) && !dataset.layouts.some((l) => l.fixedBatch !== undefined || l.mode === 'single');
    while (batchSize > 1 && total(batchSize) > budget && resizable) batchSize = Math.max(1, batchSize >> 1);
    const withinBudget = batchSize;
    // Speed: a batch whose activations are large runs slower per sample than one sample at a time.
    const activationBytes = observed.reduce((sum, n) => sum + 4 * perSample.get(n)!, 0);
    if (resizable && options.data?.batchSize === undefined) batchSize = Math.min(batchSize, Math.max(1, Math.floor(FAST_BATCH_BYTES / Math.max(1, activationBytes))));
    if (batchSize !== dataset.batchSize) {
      if (withinBudget !== dataset.batchSize) notes.push(`batch size lowered from ${dataset.batchSize} to ${withinBudget} to keep the fetched tensors within the memory budget of ${mb(budget)}${batchSize !== withinBudget ? ` (and to ${batchSize}: large activations run faster one sample at a time)` : ''}`);
      dataset = await openDataset(dataset as ModelDataset, model, { ...options.data, batchSize });
    }
    // A histogram reads whole tensors on every n-th batch: about `perRun` values over the run.
    const expectedBatches = dataset.size !== undefined ? Math.ceil(dataset.size / batchSize) : 16;
    const every = new Map(plan.filter((r) => r.sample).map((r) => [r.name, Math.max(1, Math.floor(expectedBatches / Math.ceil(perRun / (perSample.get(r.name)! * batchSize))))]));
    const groups = splitGroups(plan, (r) => bytesPerBatch(r, batchSize), budget);
    if (groups.length > 1) {
      notes.push(`the requested tensors need ${mb(total(batchSize))} per batch, over the memory budget of ${mb(budget)}: statistics were collected in ${groups.length} passes over the data (raise memoryBudget for fewer)`);
    }
    const progress = new ProgressTracker('calibrate', dataset.size !== undefined ? dataset.size * Math.max(1, groups.length) : undefined, options.onProgress);
    progress.update(0);
    const hasher = new DataHasher();
    let samples = 0;
    let batches = 0;
    const inputReducers = new Map(inputs.filter((n) => byTensor.has(n)).map((n) => [n, byTensor.get(n)!]));
    for (let g = 0; g < Math.max(1, groups.length); g++) {
      const group = groups[g] ?? [];
      const capture = g === 0 ? options.capture : undefined;
      const probe = group.length || capture ? buildProbe(model, group) : undefined;
      const session = probe ? await engine.createSession(probe.model, { ...options.session }) : undefined;
      try {
        const passReducers = new Map([...(g === 0 ? inputReducers : []), ...group.map((r) => [r.name, r.derived ? [derived.get(r.name)!] : byTensor.get(r.name)!] as const)]);
        const pass = await runPass({
          dataset, session, probe, reducers: passReducers, every,
          progress, offset: g * samples, ...(g === 0 ? { hasher } : {}), ...(capture ? { capture } : {}), ...(options.signal ? { signal: options.signal } : {}),
        });
        if (g === 0) ({ samples, batches } = pass);
      } finally {
        await session?.release().catch(() => {});
      }
    }
    if (samples === 0) throw new DataError(`${dataset.source}: no samples to calibrate on (the data set is empty)`);
    notes.push(...dataset.notes);
    const results = new Map<string, StatResult>();
    for (const [key, r] of reducers) {
      const result = r.result();
      const weights = solverInput(result);
      if (weights && !allFinite(weights)) throw nonFiniteMoments(dataset.source, result.tensor);
      results.set(key, result);
    }
    return new Statistics(results, samples, batches, hasher.digest(), notes);
  } finally {
    if (!options.engine) await engine.close();
  }
}

/** The values of a statistic that a solver or a pruning score is computed from (NaN there breaks it silently or deep inside). */
function solverInput(result: StatResult): Float64Array | undefined {
  switch (result.kind) {
    case 'xtx': case 'gram': return result.gram;
    case 'channel-l2': return result.sumSquares;
    case 'channel-abs-mean': return result.means;
    default: return undefined;
  }
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/**
 * GPTQ, SparseGPT and channel reconstruction solve with a tensor's second moments, Wanda and AWQ
 * weigh weights by its channel norms or means: with a NaN or infinity among them the solve fails
 * deep inside (not positive definite) or the scores silently choose nothing, so it is said here.
 */
function nonFiniteMoments(source: string, tensor: string): DataError {
  return new DataError(`${source}: tensor '${tensor}' reaches NaN or infinity on this data (or values whose squares overflow), so the statistics GPTQ, AWQ, SparseGPT, Wanda and channel pruning weigh with cannot be formed. Check the data and the model's weights (slimnet inspect) for NaN, infinity and values far out of range, or use a method that needs no such statistics (--algorithm rtn, --method magnitude)`);
}

function planTensor(name: string, reducers: Reducer[], info: TensorInfo, sampling: boolean): ProbeRequest {
  const needs = new Set(reducers.map((r) => r.needs));
  const wantsSample = needs.has('sample');
  const r: ProbeRequest = { name, type: info.type, extremes: needs.has('extremes') || wantsSample, sample: wantsSample && sampling && !needs.has('full'), full: needs.has('full') || (wantsSample && !sampling) };
  if (info.shape) r.rank = info.shape.length;
  return r;
}

/** Greedy groups, in graph order, each within the budget (a tensor alone over it gets a group of its own). */
function splitGroups<T>(items: readonly T[], bytes: (t: T) => number, budget: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const item of items) {
    const b = bytes(item);
    if (current.length && used + b > budget) {
      groups.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += b;
  }
  if (current.length) groups.push(current);
  return groups;
}

const mb = (bytes: number) => (bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`);
