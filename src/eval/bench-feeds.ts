/**
 * Inputs for timing (and load checks): a batch of real samples when data is given, else deterministic random values
 * shaped from the model's declared inputs (a symbolic first dimension, or one named like 'batch',
 * is the batch size; any other symbolic dimension needs real data).
 */
import type { Model } from '../ir/model.js';
import { DataType, dataTypeName } from '../ir/data-type.js';
import { typedArrayFor } from '../ir/tensor.js';
import type { Feeds } from '../runtime/types.js';
import { ortType } from '../runtime/tensor-data.js';
import { openDataset, type DataSource } from '../calibrate/data/open.js';
import { DataError, OptionError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { float32ToFloat16Bits } from '../ir/float-formats.js';

export function syntheticFeeds(model: Model, batch: number, label = model.label()): Feeds {
  const rand = mulberry32(1234);
  const feeds: Feeds = {};
  for (const input of model.graph.inputs) {
    if (input.isInitializer) continue;
    const shape = input.shape;
    const type = input.elemType;
    if (!shape || type === undefined) throw new OptionError(`${label}: input '${input.name}' has no declared shape or type; give sample data with --data`);
    const dims = shape.map((d, i) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (i === 0 || (typeof d === 'string' && /batch|^n$/i.test(d))) return batch;
      throw new OptionError(`${label}: input '${input.name}' has a symbolic dimension '${d}' besides the batch; give sample data with --data so the benchmark uses real shapes`);
    });
    const n = dims.reduce((a, b) => a * b, 1);
    const data = typedArrayFor(type, n);
    // Floats in [-1, 1); integer and bool inputs (ids, flags, lengths) stay 0, a valid value for most.
    if (type === DataType.FLOAT || type === DataType.DOUBLE) for (let i = 0; i < n; i++) (data as Float32Array)[i] = rand() * 2 - 1;
    else if (type === DataType.FLOAT16) for (let i = 0; i < n; i++) (data as Uint16Array)[i] = float32ToFloat16Bits(rand() * 2 - 1);
    let ort;
    try { ort = ortType(type); } catch { throw new OptionError(`${label}: input '${input.name}' is ${dataTypeName(type)}, which the benchmark cannot synthesize; give sample data with --data`); }
    feeds[input.name] = { type: ort, dims, data };
  }
  return feeds;
}

/** Samples a synthetic batch holds: the first input's fixed leading dimension when it has one, else `batch`. */
export function syntheticCount(model: Model, batch: number): number {
  const first = model.graph.inputs.find((i) => !i.isInitializer)?.shape?.[0];
  return typeof first === 'number' && first >= 0 ? first : batch;
}

/** A batch of real samples shaped for the model; `count` may be smaller than asked when the model fixes its batch. */
export async function dataFeeds(source: DataSource, model: Model, batch: number): Promise<{ feeds: Feeds; count: number }> {
  const data = await openDataset(source, model, { batchSize: batch, limit: batch });
  for await (const b of data.batches(data.batchSize)) {
    if (b.count < Math.min(batch, data.batchSize)) throw new DataError(`${data.source}: has ${b.count} samples, fewer than the batch size ${batch}`);
    return { feeds: b.feeds, count: b.count };
  }
  throw new DataError(`${data.source}: no samples`);
}
