/** A .npz file whose arrays are named after the model inputs, first axis = samples, plus optional `labels`. */
import type { TensorData } from '../../runtime/types.js';
import { DataError, throwIfAborted } from '../../errors.js';
import { NpzFile } from './npz.js';
import { gatherRows, sliceRows, type Batch, type BatchOptions, type Dataset } from './dataset.js';

export const LABELS_KEY = 'labels';

export class NpzDataset implements Dataset {
  readonly source: string;
  readonly size: number;
  readonly inputNames: string[];
  readonly hasLabels: boolean;
  /** Set by openDataset once it has checked every input array for NaN/Inf. */
  finiteChecked = false;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;
  /** Arrays in the file that are neither inputs (when `inputs` was given) nor labels. */
  readonly ignored: string[];
  private readonly npz: NpzFile;
  private readonly labelsKey: string;

  /**
   * `inputs` restricts which arrays are model inputs (the rest are reported as ignored);
   * `labelsKey` names the labels array (default 'labels'). Arrays that are not read are not parsed,
   * so texts ('<U34'), object arrays or scalars kept beside the inputs do no harm. With `bound`, a
   * file matching none of `inputs` is left for the model binder to explain (it knows the types).
   */
  constructor(path: string, options: { inputs?: readonly string[]; labelsKey?: string; bound?: boolean } = {}) {
    this.npz = NpzFile.open(path);
    this.source = path;
    this.labelsKey = options.labelsKey ?? LABELS_KEY;
    const names = this.npz.names;
    this.hasLabels = names.includes(this.labelsKey);
    const candidates = names.filter((n) => n !== this.labelsKey);
    this.inputNames = options.inputs ? candidates.filter((n) => options.inputs!.includes(n)) : candidates;
    this.ignored = candidates.filter((n) => !this.inputNames.includes(n));
    if (this.inputNames.length === 0 && !options.bound) {
      throw new DataError(`${path}: no array matches the model inputs${options.inputs ? ` (${options.inputs.join(', ')})` : ''}; it has: ${names.join(', ') || 'nothing'}`);
    }
    const sizes = new Set<number>();
    this.sampleInfo = {};
    for (const n of [...this.inputNames, ...(this.hasLabels ? [this.labelsKey] : [])]) {
      const t = this.npz.get(n);
      if (t.dims.length === 0) throw new DataError(`${path}: array '${n}' is a scalar; its first axis must count samples`);
      sizes.add(t.dims[0]!);
      if (n !== this.labelsKey) this.sampleInfo[n] = { type: t.type, dims: t.dims.slice(1) };
    }
    if (sizes.size > 1) {
      throw new DataError(`${path}: arrays disagree on the number of samples (${[...this.inputNames, this.labelsKey].filter((n) => this.npz.has(n)).map((n) => `${n}: ${this.npz.get(n).dims[0]}`).join(', ')})`);
    }
    this.size = [...sizes][0] ?? 0;
  }

  array(name: string): TensorData {
    return this.npz.get(name);
  }

  labels(): TensorData | undefined {
    return this.hasLabels ? this.npz.get(this.labelsKey) : undefined;
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    if (options.indices) {
      yield* this.gathered(batchSize, options.indices, options.signal);
      return;
    }
    const total = Math.min(this.size, options.limit ?? Infinity);
    for (let first = 0; first < total; first += batchSize) {
      throwIfAborted(options.signal, 'reading data');
      const end = Math.min(first + batchSize, total);
      const feeds: Record<string, TensorData> = {};
      for (const n of this.inputNames) feeds[n] = sliceRows(this.npz.get(n), first, end);
      const batch: Batch = { feeds, count: end - first, first };
      if (this.hasLabels) batch.labels = sliceRows(this.npz.get(this.labelsKey), first, end);
      yield batch;
    }
  }

  private async *gathered(batchSize: number, indices: readonly number[], signal?: AbortSignal): AsyncIterable<Batch> {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new DataError(`${this.source}: sample index ${i} is out of range (the file has ${this.size} samples)`);
    }
    for (let first = 0; first < indices.length; first += batchSize) {
      throwIfAborted(signal, 'reading data');
      const rows = indices.slice(first, first + batchSize);
      const feeds: Record<string, TensorData> = {};
      for (const n of this.inputNames) feeds[n] = gatherRows(this.npz.get(n), rows);
      const batch: Batch = { feeds, count: rows.length, first };
      if (this.hasLabels) batch.labels = gatherRows(this.npz.get(this.labelsKey), rows);
      yield batch;
    }
  }
}
