/** A Dataset over arrays in memory, for tests that need data the fixtures do not have. */
import { gatherRows, sliceRows, type Batch, type BatchOptions, type Dataset } from '../../src/calibrate/data/dataset.js';
import type { TensorData } from '../../src/runtime/types.js';

export class ArrayDataset implements Dataset {
  readonly source = 'memory';
  readonly size: number;
  readonly inputNames: string[];
  readonly hasLabels: boolean;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;
  constructor(private readonly arrays: Record<string, TensorData>, private readonly labels?: TensorData) {
    this.inputNames = Object.keys(arrays);
    this.hasLabels = !!labels;
    this.size = Object.values(arrays)[0]!.dims[0]!;
    this.sampleInfo = Object.fromEntries(Object.entries(arrays).map(([k, t]) => [k, { type: t.type, dims: t.dims.slice(1) }]));
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    const rows = options.indices ?? Array.from({ length: Math.min(this.size, options.limit ?? Infinity) }, (_, i) => i);
    for (let first = 0; first < rows.length; first += batchSize) {
      const pick = rows.slice(first, first + batchSize);
      const take = (t: TensorData) => (options.indices ? gatherRows(t, pick) : sliceRows(t, pick[0]!, pick[0]! + pick.length));
      const feeds: Record<string, TensorData> = {};
      for (const [k, t] of Object.entries(this.arrays)) feeds[k] = take(t);
      yield { feeds, count: pick.length, first, ...(this.labels ? { labels: take(this.labels) } : {}) };
    }
  }
}
