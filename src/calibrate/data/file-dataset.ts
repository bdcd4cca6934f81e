/**
 * A data set of one sample per file (or per directory): .npy/.npz files, ONNX test-data
 * directories, images. Files are read on demand in batches, so memory stays at one batch however
 * many files there are; `validate()` reads every file once up front so that a bad file is named
 * before any inference starts.
 */
import type { TensorData } from '../../runtime/types.js';
import { DataError, throwIfAborted } from '../../errors.js';
import type { Batch, BatchOptions, Dataset } from './dataset.js';
import { firstNonFinite } from './finite.js';
import { formatDims, sameDims, stackSamples } from './stack.js';

/** One sample: input name -> tensor, and an optional label. */
export interface Sample {
  feeds: Record<string, TensorData>;
  label?: number;
}

export type SampleReader = (file: string, index: number) => Promise<Sample>;

export class FileDataset implements Dataset {
  readonly size: number;
  readonly inputNames: string[];
  readonly hasLabels: boolean;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;

  /** A cheaper check than reading a whole sample, for validate() (images: the header only). */
  quickCheck?: (file: string) => Promise<void>;

  private constructor(readonly source: string, readonly files: readonly string[], private readonly read: SampleReader, first: Sample) {
    this.size = files.length;
    this.inputNames = Object.keys(first.feeds);
    this.hasLabels = first.label !== undefined;
    this.sampleInfo = Object.fromEntries(Object.entries(first.feeds).map(([k, t]) => [k, { type: t.type, dims: [...t.dims] }]));
  }

  /** Reads the first file to learn the names, shapes and types every file must share. */
  static async open(source: string, files: readonly string[], read: SampleReader): Promise<FileDataset> {
    if (files.length === 0) throw new DataError(`${source}: the data set is empty (no sample files found)`);
    return new FileDataset(source, files, read, await read(files[0]!, 0));
  }

  /** Checks that a sample matches the first: same inputs, shapes and types, finite values. */
  check(sample: Sample, file: string): void {
    const names = Object.keys(sample.feeds);
    for (const n of this.inputNames) if (!names.includes(n)) throw new DataError(`${file}: no input '${n}' (the first sample, ${this.files[0]}, has it); every sample needs the same inputs`);
    for (const [n, t] of Object.entries(sample.feeds)) {
      const want = this.sampleInfo[n];
      if (!want) throw new DataError(`${file}: input '${n}' is not in the first sample ${this.files[0]} (it has: ${this.inputNames.join(', ')})`);
      if (t.type !== want.type) throw new DataError(`${file}: input '${n}' is ${t.type} but the first sample has ${want.type}`);
      if (!sameDims(t.dims, want.dims)) throw new DataError(`${file}: input '${n}' has shape ${formatDims(t.dims)} but the first sample has ${formatDims(want.dims)}; every sample must have the same shape`);
      if (firstNonFinite(t) >= 0) throw new DataError(`${file}: input '${n}' has a NaN or infinite value; clean the data first (e.g. numpy's np.nan_to_num, or drop those samples)`);
    }
    if ((sample.label !== undefined) !== this.hasLabels) throw new DataError(`${file}: ${this.hasLabels ? 'has no label' : 'has a label'} unlike the first sample`);
  }

  /** Reads every file (or those at `indices`) once, without inference, and checks it. */
  async validate(indices?: readonly number[], signal?: AbortSignal): Promise<void> {
    for (const i of indices ?? this.files.map((_, k) => k)) {
      throwIfAborted(signal, 'checking data');
      if (this.quickCheck) await this.quickCheck(this.files[i]!);
      else this.check(await this.read(this.files[i]!, i), this.files[i]!);
    }
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    const order = options.indices ?? this.files.map((_, i) => i).slice(0, options.limit ?? this.files.length);
    for (let first = 0; first < order.length; first += batchSize) {
      throwIfAborted(options.signal, 'reading data');
      const picked = order.slice(first, first + batchSize);
      const samples: Sample[] = [];
      for (const i of picked) {
        const file = this.files[i];
        if (file === undefined) throw new DataError(`${this.source}: sample index ${i} is out of range (${this.files.length} samples)`);
        const s = await this.read(file, i);
        this.check(s, file);
        samples.push(s);
      }
      const feeds: Record<string, TensorData> = {};
      for (const n of this.inputNames) feeds[n] = stackSamples(samples.map((s) => s.feeds[n]!));
      const batch: Batch = { feeds, count: samples.length, first };
      if (this.hasLabels) batch.labels = { type: 'int64', dims: [samples.length], data: BigInt64Array.from(samples, (s) => BigInt(s.label!)) };
      yield batch;
    }
  }
}

/** Natural order: sample_2 before sample_10. */
export function naturalSort(names: string[]): string[] {
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return [...names].sort(collator.compare);
}
