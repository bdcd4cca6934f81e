/** openDataset: formats, validation against the model's inputs, batching and subsets. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../src/calibrate/data/open.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { subsetIndices } from '../../src/calibrate/data/subset.js';
import { loadModel } from '../../src/onnx/io.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Dim } from '../../src/ir/types.js';
import { DataError } from '../../src/errors.js';
import type { TensorData } from '../../src/runtime/types.js';
import { FIXTURES, SYNTHETIC, TRAINED } from '../helpers.js';

const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const resnet = loadModel(join(TRAINED, 'resnet_bn.onnx'));
const dir = mkdtempSync(join(tmpdir(), 'slimnet-data-'));

function npz(name: string, arrays: Record<string, TensorData>): string {
  const path = join(dir, name);
  writeFileSync(path, encodeNpz(arrays));
  return path;
}

const f32 = (dims: number[], fill = (i: number) => i) => ({ type: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });

/** x -> Relu(x * w): a model whose input shape we choose. */
function tiny(shape: Dim[]): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, shape);
  b.output(b.op('Relu', [b.op('Mul', [x, b.initializer('w', Tensor.float([], [2]))])], {}, { outputNames: ['y'] }));
  return b.build();
}

async function collect(ds: Awaited<ReturnType<typeof openDataset>>) {
  const out = [];
  for await (const b of ds.batches()) out.push(b);
  return out;
}

describe('openDataset', () => {
  it('batches a symbolic-batch model and carries labels', async () => {
    const ds = await openDataset(CALIB, resnet, { batchSize: 64 });
    expect(ds.size).toBe(300);
    expect(ds.batchSize).toBe(64);
    const batches = await collect(ds);
    expect(batches.map((b) => b.count)).toEqual([64, 64, 64, 64, 44]);
    expect(batches[0]!.feeds.input!.dims).toEqual([64, 1, 28, 28]);
    expect(batches[4]!.labels!.dims).toEqual([44]);
  });

  it('feeds one sample at a time to a model with a fixed batch of 1', async () => {
    const path = npz('fixed.npz', { x: f32([5, 4]) });
    const ds = await openDataset(path, tiny([1, 4]), { batchSize: 8 });
    expect(ds.batchSize).toBe(1);
    const batches = await collect(ds);
    expect(batches.length).toBe(5);
    expect(batches[2]!.feeds.x!.dims).toEqual([1, 4]);
    expect(Array.from(batches[2]!.feeds.x!.data as Float32Array)).toEqual([8, 9, 10, 11]);
  });

  it('feeds samples whole to a model without a batch axis, and stacks along a symbolic inner axis', async () => {
    const whole = await collect(await openDataset(npz('whole.npz', { x: f32([3, 2, 4]) }), tiny([2, 4])));
    expect(whole.map((b) => b.feeds.x!.dims)).toEqual([[2, 4], [2, 4], [2, 4]]);
    // LSTM-style [seq, batch, features]: samples of [seq, features] are stacked on axis 1.
    const lstm = loadModel(join(SYNTHETIC, 'lstm.onnx'));
    const seq = await openDataset(npz('seq.npz', { sequence: f32([4, 6, 8]) }), lstm, { batchSize: 2 });
    const [first] = await collect(seq);
    expect(first!.feeds.sequence!.dims).toEqual([6, 2, 8]);
    const d = first!.feeds.sequence!.data as Float32Array;
    // element [t=1, b=1, f=3] is sample 1's [1, 3] = 48 + 8 + 3
    expect(d[(1 * 2 + 1) * 8 + 3]).toBe(48 + 8 + 3);
  });

  it('takes a deterministic subset spread over the data', async () => {
    const a = await openDataset(CALIB, resnet, { limit: 50 });
    const b = await openDataset(CALIB, resnet, { limit: 50 });
    expect(a.size).toBe(50);
    const labels = async (ds: typeof a) => (await collect(ds)).flatMap((x) => Array.from(x.labels!.data as BigInt64Array, Number));
    expect(await labels(a)).toEqual(await labels(b));
    expect(a.notes.join()).toMatch(/using 50 of 300 samples/);
    const idx = subsetIndices(300, 50);
    expect(new Set(idx).size).toBe(50);
    expect(idx).toEqual([...idx].sort((x, y) => x - y));
    expect(Math.max(...idx)).toBeGreaterThan(250); // not just the first 50
    expect(subsetIndices(300, 50, 1)).not.toEqual(idx);
    expect(subsetIndices(10, 50)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('converts float64 (numpy default) to float32 with a note', async () => {
    const path = npz('f64.npz', { x: { type: 'float64', dims: [2, 4], data: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8) } });
    const ds = await openDataset(path, tiny(['n', 4]));
    const [b] = await collect(ds);
    expect(b!.feeds.x!.type).toBe('float32');
    expect(ds.notes.join()).toMatch(/float64 in the data; converted to float32/);
  });

  it('rejects data that does not fit the model, naming the file, the input and the shapes', async () => {
    const cases: [string, Record<string, TensorData>, RegExp][] = [
      ['name.npz', { pixels: f32([2, 1, 28, 28]) }, /name\.npz: the model needs input 'input' \(float32\), but the data has no array named 'input' \(it has: pixels\)/],
      ['shape.npz', { input: f32([2, 3, 28, 28]) }, /shape\.npz: input 'input' expects samples of \[1,28,28\] \(model input \[batch,1,28,28\]\), but the data has samples of \[3,28,28\]/],
      ['dtype.npz', { input: { type: 'int32', dims: [2, 1, 28, 28], data: new Int32Array(2 * 784) } }, /dtype\.npz: input 'input' must be float32, but the data has int32/],
      ['nan.npz', { input: f32([3, 1, 28, 28], (i) => (i === 784 * 2 + 5 ? NaN : 0)) }, /nan\.npz: input 'input' has a NaN or infinite value in sample 2/],
      ['empty.npz', { input: f32([0, 1, 28, 28]) }, /empty\.npz: the data set is empty/],
    ];
    for (const [name, arrays, message] of cases) {
      const err = await openDataset(npz(name, arrays), resnet).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(message);
    }
    await expect(openDataset(join(dir, 'missing.npz'), resnet)).rejects.toThrow(/missing\.npz: no such file/);
    await expect(openDataset(CALIB, resnet, { limit: 0 })).rejects.toThrow(/positive integer/);
  });
});
