/** A Dataset over arrays in memory, for tests that need data the fixtures do not have. */
import { sliceRows, type Batch, type BatchOptions, type Dataset } from '../../src/calibrate/data/dataset.js';
import type { TensorData } from '../../src/runtime/types.js';

export class ArrayDataset implements Dataset {
  readonly source = 'memory';
  readonly size: number;
  readonly inputNames: string[];
  readonly hasLabels: boolean;
  constructor(private readonly arrays: Record<string, TensorData>, private readonly labels?: TensorData) {
    this.inputNames = Object.keys(arrays);
    this.hasLabels = !!labels;
    this.size = Object.values(arrays)[0]!.dims[0]!;
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    const total = Math.min(this.size, options.limit ?? Infinity);
    for (let first = 0; first < total; first += batchSize) {
      const end = Math.min(first + batchSize, total);
      const feeds: Record<string, TensorData> = {};
      for (const [k, t] of Object.entries(this.arrays)) feeds[k] = sliceRows(t, first, end);
      yield { feeds, count: end - first, first, ...(this.labels ? { labels: sliceRows(this.labels, first, end) } : {}) };
    }
  }
}
