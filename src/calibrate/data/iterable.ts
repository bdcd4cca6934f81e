/**
 * Any (async) iterable as data, in the API: each item is one inference's feeds (input name ->
 * tensor, as runtime TensorData or an IR Tensor), or anything a `transform` turns into that (NNCF's
 * transform_fn). Items are checked against the first one as they arrive. A plain iterable can be
 * read once; pass a function that returns a fresh iterable when the data must be read again (the
 * collector needs several passes when the tensors do not fit in memory).
 */
import type { TensorData } from '../../runtime/types.js';
import { Tensor } from '../../ir/tensor.js';
import { fromIrTensor } from '../../runtime/tensor-data.js';
import { DataError, throwIfAborted } from '../../errors.js';
import type { Batch, BatchOptions, Dataset } from './dataset.js';
import { firstNonFinite } from './finite.js';
import { formatDims, sameDims, stackSamples } from './stack.js';

export type FeedsLike = Record<string, TensorData | Tensor>;
export type ItemSource<T> = AsyncIterable<T> | Iterable<T> | (() => AsyncIterable<T> | Iterable<T>);
export type Transform<T> = (item: T, index: number) => FeedsLike | Promise<FeedsLike>;

export function isItemSource(x: unknown): x is ItemSource<unknown> {
  return typeof x === 'function' || (typeof x === 'object' && x !== null && (Symbol.asyncIterator in x || Symbol.iterator in x));
}

function toFeeds(f: FeedsLike, where: string): Record<string, TensorData> {
  if (!f || typeof f !== 'object') throw new DataError(`${where}: expected feeds (input name -> tensor), got ${typeof f}; pass a transform that builds them`);
  const out: Record<string, TensorData> = {};
  for (const [k, v] of Object.entries(f)) {
    if (v instanceof Tensor) out[k] = fromIrTensor(v);
    else if (v && typeof v === 'object' && 'dims' in v && 'data' in v && 'type' in v) out[k] = v;
    else throw new DataError(`${where}: input '${k}' is not a tensor ({type, dims, data} or an IR Tensor)`);
  }
  return out;
}

async function* items<T>(source: ItemSource<T>): AsyncIterable<T> {
  const it = typeof source === 'function' ? source() : source;
  if (Symbol.asyncIterator in it) yield* it as AsyncIterable<T>;
  else yield* it as Iterable<T>;
}

export class IterableDataset<T> implements Dataset {
  readonly inputNames: string[];
  readonly hasLabels = false;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;
  private used = false;

  private constructor(readonly source: string, private readonly src: ItemSource<T>, private readonly transform: Transform<T> | undefined, private first: Record<string, TensorData> | undefined, private rest: AsyncIterator<T> | undefined, readonly size: number | undefined) {
    this.inputNames = Object.keys(first!);
    this.sampleInfo = Object.fromEntries(Object.entries(first!).map(([k, t]) => [k, { type: t.type, dims: [...t.dims] }]));
  }

  /** Reads the first item to learn the inputs and shapes. */
  static async open<T>(src: ItemSource<T>, options: { transform?: Transform<T>; size?: number; name?: string } = {}): Promise<IterableDataset<T>> {
    const name = options.name ?? 'the data iterable';
    const it = items(src)[Symbol.asyncIterator]();
    const head = await it.next();
    if (head.done) throw new DataError(`${name}: the data set is empty (the iterable yielded nothing)`);
    const feeds = toFeeds(options.transform ? await options.transform(head.value, 0) : (head.value as FeedsLike), `${name}, item 0`);
    // A factory or an array can start over; a generator continues where the peek left it.
    const fresh = typeof src === 'function' || Array.isArray(src);
    return new IterableDataset(name, src, options.transform, feeds, fresh ? undefined : it, options.size);
  }

  private check(feeds: Record<string, TensorData>, where: string): void {
    for (const n of this.inputNames) {
      const t = feeds[n];
      const want = this.sampleInfo[n]!;
      if (!t) throw new DataError(`${where}: no input '${n}' (item 0 has it)`);
      if (t.type !== want.type || !sameDims(t.dims, want.dims)) throw new DataError(`${where}: input '${n}' is ${t.type}${formatDims(t.dims)} but item 0 is ${want.type}${formatDims(want.dims)}`);
      if (firstNonFinite(t) >= 0) throw new DataError(`${where}: input '${n}' has a NaN or infinite value`);
    }
  }

  async *batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    let source: AsyncIterator<T>;
    let pending: Record<string, TensorData> | undefined;
    if (!this.rest) {
      source = items(this.src)[Symbol.asyncIterator]();
    } else {
      if (this.used) throw new DataError(`${this.source}: an iterable can be read once; pass a function that returns a fresh iterable to read the data again`);
      source = this.rest!;
      pending = this.first;
    }
    this.used = true;
    const limit = options.indices?.length ?? options.limit ?? Infinity;
    let index = 0;
    let buffer: Record<string, TensorData>[] = [];
    const flush = (): Batch => {
      const feeds: Record<string, TensorData> = {};
      for (const n of this.inputNames) feeds[n] = stackSamples(buffer.map((b) => b[n]!));
      const batch: Batch = { feeds, count: buffer.length, first: index - buffer.length };
      buffer = [];
      return batch;
    };
    while (index < limit) {
      throwIfAborted(options.signal, 'reading data');
      let feeds = pending;
      pending = undefined;
      if (!feeds) {
        const next = await source.next();
        if (next.done) break;
        feeds = toFeeds(this.transform ? await this.transform(next.value, index) : (next.value as FeedsLike), `${this.source}, item ${index}`);
      }
      this.check(feeds, `${this.source}, item ${index}`);
      buffer.push(feeds);
      index++;
      if (buffer.length === batchSize) yield flush();
    }
    if (buffer.length) yield flush();
  }
}
