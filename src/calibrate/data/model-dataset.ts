/**
 * A data set bound to a model: validated against the model's inputs, cut to a deterministic subset,
 * and yielding feeds the model accepts as they are (batched along the model's batch axis, or one
 * sample at a time for models without one or with a fixed batch of 1).
 */
import type { Model } from '../../ir/model.js';
import type { TensorData } from '../../runtime/types.js';
import { DataError, throwIfAborted } from '../../errors.js';
import type { Batch, BatchOptions, Dataset } from './dataset.js';
import { batchSizeFor, checkType, layoutFor, modelInputs, type InputLayout } from './model-inputs.js';
import { subsetIndices } from './subset.js';
import { firstNonFinite } from './finite.js';
import { encodeFloat16 } from '../../ir/float-formats.js';

export { firstNonFinite };

export interface BindOptions {
  /** Use at most this many samples: a deterministic subset spread over the data (`--calib-size`). */
  limit?: number;
  /** Seed that picks the subset (default 0). */
  seed?: number;
  /** Samples per inference when the model's batch axis is symbolic (default 16); fixed-batch models ignore it. */
  batchSize?: number;
}

export const DEFAULT_BATCH_SIZE = 16;

/** Moves the sample axis (0) of [B, ...sample] to `axis`: [s0..s(axis-1), B, ...]. */
function moveSampleAxis(t: TensorData, axis: number): TensorData {
  const [b, ...s] = t.dims as [number, ...number[]];
  const outer = s.slice(0, axis).reduce((x, y) => x * y, 1);
  const inner = s.slice(axis).reduce((x, y) => x * y, 1);
  const src = t.data as Exclude<TensorData['data'], string[]>;
  const out = new (src.constructor as new (n: number) => typeof src)(src.length);
  for (let k = 0; k < b; k++) {
    for (let o = 0; o < outer; o++) {
      (out as Float32Array).set((src as Float32Array).subarray((k * outer + o) * inner, (k * outer + o + 1) * inner), (o * b + k) * inner);
    }
  }
  return { type: t.type, dims: [...s.slice(0, axis), b, ...s.slice(axis)], data: out };
}

export class ModelDataset implements Dataset {
  readonly source: string;
  readonly size: number | undefined;
  readonly inputNames: readonly string[];
  readonly hasLabels: boolean;
  readonly sampleInfo: Readonly<Record<string, { type: TensorData['type']; dims: number[] }>>;
  /** Samples per inference this model takes. */
  readonly batchSize: number;
  readonly layouts: readonly InputLayout[];
  /** Things the user should know (ignored arrays, conversions, subset), for the CLI to print. */
  readonly notes: string[] = [];
  private readonly indices: number[] | undefined;
  private readonly convert = new Map<string, 'float64-to-float32' | 'to-float16'>();

  constructor(readonly model: Model, readonly raw: Dataset, readonly options: BindOptions = {}) {
    this.source = raw.source;
    const info = raw.sampleInfo;
    if (!info) throw new DataError(`${raw.source}: the sample shapes are not known up front; slimnet cannot check them against the model`);
    const specs = modelInputs(model);
    const missing = specs.filter((s) => !raw.inputNames.includes(s.name));
    if (missing.length) {
      const m = missing[0]!;
      throw new DataError(
        `${raw.source}: the model needs input '${m.name}' (${m.type}), but the data has no array named '${m.name}' ` +
          `(it has: ${[...raw.inputNames, ...(raw.ignored ?? [])].join(', ') || 'nothing'}); name the arrays after the model inputs (${specs.map((s) => s.name).join(', ')})`,
      );
    }
    const extra = [...raw.inputNames.filter((n) => !specs.some((s) => s.name === n)), ...(raw.ignored ?? [])];
    if (extra.length) this.notes.push(`${raw.source}: ignored arrays that are not model inputs: ${extra.join(', ')}`);
    this.layouts = specs.map((spec) => {
      const sample = info[spec.name]!;
      const conversion = checkType(spec, sample.type, raw.source, this.notes);
      if (conversion !== 'same') this.convert.set(spec.name, conversion);
      return layoutFor(spec, sample.dims, raw.source);
    });
    this.inputNames = specs.map((s) => s.name);
    this.sampleInfo = Object.fromEntries(this.layouts.map((l) => [l.spec.name, { type: l.spec.type, dims: [...l.sampleDims] }]));
    this.hasLabels = raw.hasLabels;
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new DataError(`batch size must be a positive integer (got ${options.batchSize})`);
    }
    this.batchSize = batchSizeFor(this.layouts, options.batchSize ?? DEFAULT_BATCH_SIZE, raw.source);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
      throw new DataError(`--calib-size / limit must be a positive integer (got ${options.limit})`);
    }
    if (raw.size !== undefined) {
      if (raw.size === 0) throw new DataError(`${raw.source}: the data set is empty (0 samples)`);
      this.indices = options.limit !== undefined && options.limit < raw.size ? subsetIndices(raw.size, options.limit, options.seed ?? 0) : undefined;
      if (this.indices) this.notes.push(`${raw.source}: using ${this.indices.length} of ${raw.size} samples (a fixed subset, seed ${options.seed ?? 0})`);
      this.size = this.indices?.length ?? raw.size;
    } else {
      this.size = undefined;
    }
    this.limit = options.limit;
  }

  private readonly limit: number | undefined;

  /** The samples this data set reads (a subset's indices), or undefined for all of them. */
  get sampleIndices(): readonly number[] | undefined {
    return this.indices;
  }

  /** Batches shaped for the model. `batchSize` is honoured only where the model allows it. */
  async *batches(batchSize = this.batchSize, options: BatchOptions = {}): AsyncIterable<Batch> {
    const size = this.layouts.some((l) => l.mode === 'single' || l.fixedBatch !== undefined) ? this.batchSize : batchSize;
    const limit = Math.min(options.limit ?? Infinity, this.limit ?? Infinity);
    const opts: BatchOptions = { signal: options.signal };
    if (this.indices) opts.indices = Number.isFinite(limit) ? this.indices.slice(0, limit) : this.indices;
    else if (Number.isFinite(limit)) opts.limit = limit;
    let dropped = 0;
    for await (const b of this.raw.batches(size, opts)) {
      throwIfAborted(options.signal, 'reading data');
      const fixed = this.layouts.find((l) => l.fixedBatch !== undefined)?.fixedBatch;
      if (fixed !== undefined && b.count !== fixed) {
        dropped += b.count;
        continue;
      }
      yield { ...b, feeds: this.shape(b) };
    }
    if (dropped) this.notes.push(`${this.source}: the model takes batches of exactly ${this.batchSize}; the last ${dropped} samples were left out`);
  }

  private shape(b: Batch): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    for (const l of this.layouts) {
      let t = b.feeds[l.spec.name]!;
      // Arrays checked whole when opened need no second pass over every batch.
      const bad = this.raw.finiteChecked ? -1 : firstNonFinite(t);
      if (bad >= 0) {
        const per = l.sampleDims.reduce((x, y) => x * y, 1) || 1;
        const pos = b.first + Math.floor(bad / per);
        throw new DataError(`${this.source}: input '${l.spec.name}' has a NaN or infinite value in sample ${this.indices?.[pos] ?? pos}; clean the data first (e.g. numpy's np.nan_to_num, or drop those samples)`);
      }
      const conversion = this.convert.get(l.spec.name);
      if (conversion === 'float64-to-float32') t = { type: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) };
      else if (conversion === 'to-float16') t = { type: 'float16', dims: t.dims, data: encodeFloat16(t.data as Float32Array | Float64Array) };
      if (l.mode === 'single') t = { ...t, dims: [...l.sampleDims] };
      else {
        if (l.squeeze) t = { ...t, dims: [b.count, ...l.sampleDims] };
        if (l.axis > 0) t = moveSampleAxis(t, l.axis);
      }
      feeds[l.spec.name] = t;
    }
    return feeds;
  }
}
