/** In-memory arrays whose first axis counts samples (what JSON data and async iterables become). */
import type { TensorData } from '../../runtime/types.js';
import { DataError, throwIfAborted } from '../../errors.js';
import { gatherRows, sliceRows, type Batch, type BatchOptions, type Dataset } from './dataset.js';

export class ArrayDataset implements Dataset {
  readonly size: number;
  readonly inputNames: string[];
  readonly hasLabels: boolean;
  /** Set by openDataset once it has checked every input array for NaN/Inf. */
  finiteChecked = false;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;

  constructor(readonly source: string, private readonly arrays: Record<string, TensorData>, private readonly labels?: TensorData) {
    this.inputNames = Object.keys(arrays);
    this.hasLabels = labels !== undefined;
    const sizes = new Set(Object.values(arrays).map((t) => t.dims[0] ?? 0));
    if (labels) sizes.add(labels.dims[0] ?? 0);
    if (sizes.size > 1) throw new DataError(`${source}: inputs disagree on the number of samples`);
    this.size = [...sizes][0] ?? 0;
    this.sampleInfo = Object.fromEntries(Object.entries(arrays).map(([k, t]) => [k, { type: t.type, dims: t.dims.slice(1) }]));
  }

  array(name: string): TensorData {
    return this.arrays[name]!;
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    const total = options.indices?.length ?? Math.min(this.size, options.limit ?? Infinity);
    for (let first = 0; first < total; first += batchSize) {
      throwIfAborted(options.signal, 'reading data');
      const end = Math.min(first + batchSize, total);
      const rows = options.indices?.slice(first, end);
      const take = (t: TensorData) => (rows ? gatherRows(t, rows) : sliceRows(t, first, end));
      const feeds: Record<string, TensorData> = {};
      for (const n of this.inputNames) feeds[n] = take(this.arrays[n]!);
      const batch: Batch = { feeds, count: end - first, first };
      if (this.labels) batch.labels = take(this.labels);
      yield batch;
    }
  }
}
