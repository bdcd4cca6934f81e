/** Every data format openDataset reads, built from the Fashion-MNIST fixture, and its bad-data errors. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openDataset } from '../../src/calibrate/data/open.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { encodeNpy } from '../../src/calibrate/data/npy.js';
import { encodeTensorFile } from '../../src/onnx/tensor-file.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { loadModel } from '../../src/onnx/io.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Dim } from '../../src/ir/types.js';
import type { TensorData } from '../../src/runtime/types.js';
import { DataError } from '../../src/errors.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const resnet = loadModel(join(TRAINED, 'resnet_bn.onnx'));
const fmnist = new NpzDataset(join(FIXTURES, 'data', 'fmnist_calib.npz'));
const images = fmnist.array('input').data as Float32Array; // [300, 1, 28, 28], normalized
const labels = fmnist.array('labels').data as BigInt64Array;
const root = mkdtempSync(join(tmpdir(), 'slimnet-formats-'));
const N = 12;
const sample = (i: number): TensorData => ({ type: 'float32', dims: [1, 28, 28], data: images.slice(i * 784, (i + 1) * 784) });

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

async function all(ds: Awaited<ReturnType<typeof openDataset>>) {
  const batches = [];
  for await (const b of ds.batches()) batches.push(b);
  return batches;
}

/** The first `n` samples as the model receives them, flattened. */
async function fed(ds: Awaited<ReturnType<typeof openDataset>>, name = 'input'): Promise<Float32Array> {
  const parts = (await all(ds)).map((b) => b.feeds[name]!.data as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function tiny(name: string, shape: Dim[], type = DataType.FLOAT) {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input(name, type, shape);
  const f = type === DataType.FLOAT ? x : b.op('Cast', [x], { to: DataType.FLOAT });
  b.output(b.op('Relu', [b.op('Mul', [f, b.initializer('w', Tensor.float([], [2]))])], {}, { outputNames: ['y'] }));
  return b.build();
}

const expectDataError = async (p: Promise<unknown>, message: RegExp) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DataError);
  expect((err as Error).message).toMatch(message);
};

describe('directories of .npy / .npz files', () => {
  it('reads one .npy per sample, with or without the batch axis, in natural order', async () => {
    const plain = dir('npy');
    const batched = dir('npy-batched');
    for (let i = 0; i < N; i++) {
      writeFileSync(join(plain, `sample_${i}.npy`), encodeNpy(sample(i)));
      writeFileSync(join(batched, `sample_${i}.npy`), encodeNpy({ ...sample(i), dims: [1, 1, 28, 28] }));
    }
    for (const d of [plain, batched]) {
      const ds = await openDataset(d, resnet, { batchSize: 5 });
      expect(ds.size).toBe(N);
      expect((await all(ds)).map((b) => b.feeds.input!.dims)).toEqual([[5, 1, 28, 28], [5, 1, 28, 28], [2, 1, 28, 28]]);
      expect(await fed(ds)).toEqual(images.slice(0, N * 784)); // sample_10 after sample_9
    }
  });

  it('reads one .npz per sample with a label', async () => {
    const d = dir('npz');
    for (let i = 0; i < N; i++) writeFileSync(join(d, `${i}.npz`), encodeNpz({ input: sample(i), labels: { type: 'int64', dims: [], data: BigInt64Array.of(labels[i]!) } }));
    const ds = await openDataset(d, resnet, { batchSize: 4 });
    expect(ds.hasLabels).toBe(true);
    const got = (await all(ds)).flatMap((b) => Array.from(b.labels!.data as BigInt64Array));
    expect(got).toEqual(Array.from(labels.slice(0, N)));
  });

  it('names the bad file before any inference: NaN, another shape, empty directory', async () => {
    const nan = dir('npy-nan');
    const shape = dir('npy-shape');
    for (let i = 0; i < 4; i++) {
      const t = sample(i);
      if (i === 2) (t.data as Float32Array)[100] = NaN;
      writeFileSync(join(nan, `s${i}.npy`), encodeNpy(t));
      writeFileSync(join(shape, `s${i}.npy`), encodeNpy(i === 3 ? { type: 'float32', dims: [1, 28, 27], data: new Float32Array(756) } : sample(i)));
    }
    await expectDataError(openDataset(nan, resnet), /npy-nan\/s2\.npy: input 'input' has a NaN or infinite value/);
    await expectDataError(openDataset(shape, resnet), /npy-shape\/s3\.npy: input 'input' has shape \[1,28,27\] but the first sample has \[1,28,28\]/);
    await expectDataError(openDataset(dir('empty'), resnet), /empty: no sample files/);
  });
});

describe('ONNX test-data directories', () => {
  it('reads test_data_set_N/input_0.pb TensorProto files, named or by position', async () => {
    const d = dir('onnx-test-data');
    for (let i = 0; i < N; i++) {
      const set = join(d, `test_data_set_${i}`);
      mkdirSync(set);
      const t = Tensor.fromTyped(DataType.FLOAT, [1, 1, 28, 28], sample(i).data as Float32Array, i % 2 ? 'input' : '');
      writeFileSync(join(set, 'input_0.pb'), encodeTensorFile(t));
      writeFileSync(join(set, 'output_0.pb'), encodeTensorFile(Tensor.float([1, 10], new Float32Array(10))));
    }
    const ds = await openDataset(d, resnet, { batchSize: 8 });
    expect(ds.size).toBe(N);
    expect(await fed(ds)).toEqual(images.slice(0, N * 784));
    const single = join(d, 'test_data_set_0');
    expect((await openDataset(single, resnet)).size).toBe(1);
  });
});

describe('image directories', () => {
  // Fashion-MNIST was normalized with mean 0.2860, std 0.3530: undo it to get the 8-bit pixels back.
  const MEAN = 0.286;
  const STD = 0.353;
  const pixels = (i: number) => Buffer.from(Array.from(sample(i).data as Float32Array, (v) => Math.max(0, Math.min(255, Math.round((v * STD + MEAN) * 255)))));

  it('decodes class folders with labels and applies the declared preprocessing (grey, NCHW)', async () => {
    const d = dir('images');
    for (let i = 0; i < N; i++) {
      const cls = join(d, `class_${labels[i]}`);
      mkdirSync(cls, { recursive: true });
      await sharp(pixels(i), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(cls, `img${i}.png`));
    }
    const ds = await openDataset(d, resnet, { preprocess: { scale: 1 / 255, mean: [MEAN], std: [STD] }, batchSize: 64 });
    expect(ds.size).toBe(N);
    const [batch] = await all(ds);
    expect(batch!.feeds.input!.dims).toEqual([N, 1, 28, 28]);
    // Class folders in sorted order: labels are indices into the sorted class names.
    const classes = [...new Set(Array.from(labels.slice(0, N), String))].sort((a, b) => `class_${a}`.localeCompare(`class_${b}`));
    const got = Array.from(batch!.labels!.data as BigInt64Array, (l) => classes[Number(l)]);
    // Lossless PNG: every fed value is the original normalized pixel, up to 8-bit rounding.
    const fedValues = batch!.feeds.input!.data as Float32Array;
    const order = got.map((c) => c); // files are grouped by class; compare as multisets per class
    expect(order.length).toBe(N);
    expect(new Set(got)).toEqual(new Set(Array.from(labels.slice(0, N), String)));
    let maxErr = 0;
    for (let k = 0; k < N; k++) {
      const row = fedValues.subarray(k * 784, (k + 1) * 784);
      const best = Math.min(...Array.from({ length: N }, (_, i) => Math.max(...Array.from(row, (v, j) => Math.abs(v - (images[i * 784 + j]!))))));
      maxErr = Math.max(maxErr, best);
    }
    expect(maxErr).toBeLessThan(0.5 / 255 / STD + 1e-5);
    // And it calibrates.
    const r = await calibrate(resnet, d, { data: { preprocess: { scale: 1 / 255, mean: [MEAN], std: [STD] } }, tensors: ['input'] });
    expect(r.samples).toBe(N);
  });

  it('resizes, crops, swaps to BGR and lays out NHWC for a colour model', async () => {
    const d = dir('colour');
    // 40x20 image: left half red, right half blue.
    const raw = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).png().toFile(join(d, 'a.png'));
    const model = tiny('image', ['n', 8, 8, 3]);
    const ds = await openDataset(d, model, { preprocess: { resize: 10, crop: [8, 8], scale: 1, channels: 'BGR' } });
    const [b] = await all(ds);
    expect(b!.feeds.image!.dims).toEqual([1, 8, 8, 3]);
    const px = (y: number, x: number) => Array.from((b!.feeds.image!.data as Float32Array).subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    // Resized to 20x10, centre crop 8x8 = columns 6..13: left of 10 is red, right is blue; BGR order.
    expect(px(4, 0)).toEqual([0, 0, 255]);
    expect(px(4, 7)).toEqual([255, 0, 0]);
    const uint8 = tiny('image', ['n', 3, 8, 8], DataType.UINT8);
    const [u] = await all(await openDataset(d, uint8, { preprocess: 'raw' }));
    expect(u!.feeds.image!.type).toBe('uint8');
  });

  it('names an unreadable image before inference', async () => {
    const d = dir('broken-images');
    await sharp(pixels(0), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(d, 'good.png'));
    writeFileSync(join(d, 'bad.jpg'), 'this is not a jpeg');
    await expectDataError(openDataset(d, resnet), /bad\.jpg: cannot read the image/);
  });
});

describe('JSON, JSONL and iterables', () => {
  const model = tiny('x', ['batch', 2, 2]);

  it('reads JSONL samples with labels, JSON arrays and JSON columns', async () => {
    const jsonl = join(root, 'd.jsonl');
    writeFileSync(jsonl, '{"x": [[1, 2], [3, 4]], "label": 1}\n\n{"x": [[5, 6], [7, 8]], "label": 0}\n');
    const a = await openDataset(jsonl, model);
    const [b] = await all(a);
    expect(b!.feeds.x!.dims).toEqual([2, 2, 2]);
    expect(Array.from(b!.feeds.x!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(b!.labels!.data as BigInt64Array)).toEqual([1n, 0n]);
    const arr = join(root, 'd.json');
    writeFileSync(arr, '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]');
    expect(await fed(await openDataset(arr, model), 'x')).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const cols = join(root, 'cols.json');
    writeFileSync(cols, '{"x": [[[1, 2], [3, 4]]], "labels": [7]}');
    expect((await openDataset(cols, model)).size).toBe(1);
  });

  it('explains ragged arrays, nulls and bad lines with the line number', async () => {
    const cases: [string, string, RegExp][] = [
      ['ragged.jsonl', '{"x": [[1, 2], [3]]}\n', /ragged\.jsonl:1, input 'x': ragged array/],
      ['null.jsonl', '{"x": [[1, 2], [3, 4]]}\n{"x": [[1, null], [3, 4]]}\n', /null\.jsonl:2, input 'x': null/],
      ['broken.jsonl', '{"x": [[1, 2], [3, 4]]}\n{"x": \n', /broken\.jsonl:2: not valid JSON/],
      ['shape.jsonl', '{"x": [[1, 2, 3], [3, 4, 5]]}\n', /shape\.jsonl: input 'x' expects samples of \[2,2\]/],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(join(root, name), text);
      await expectDataError(openDataset(join(root, name), model), message);
    }
  });

  it('takes async iterables of feeds, IR tensors, and a transform; a generator is read once', async () => {
    async function* gen() {
      for (let i = 0; i < 5; i++) yield { x: Tensor.float([1, 2, 2], [i, i, i, i]) };
    }
    const ds = await openDataset(gen(), model, { batchSize: 2 });
    expect((await all(ds)).map((b) => b.count)).toEqual([2, 2, 1]);
    await expectDataError(all(ds), /can be read once; pass a function/);
    const factory = () => [1, 2, 3].map((v) => ({ value: v }));
    const viaTransform = await openDataset(factory, model, { transform: (item) => ({ x: { type: 'float32', dims: [2, 2], data: new Float32Array(4).fill((item as { value: number }).value) } }) });
    expect(await fed(viaTransform, 'x')).toEqual(Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    expect(await fed(viaTransform, 'x')).toHaveLength(12); // a factory can be read again
    const r = await calibrate(model, factory, { data: { transform: (item) => ({ x: Tensor.float([2, 2], [(item as { value: number }).value, -1, 0, 1]) }) } });
    expect(r.ranges.get('y')).toEqual({ min: 0, max: 6 });
    async function* bad() {
      yield { x: Tensor.float([2, 2], [1, 2, 3, 4]) };
      yield { x: Tensor.float([2, 2], [1, NaN, 3, 4]) };
    }
    await expectDataError(all(await openDataset(bad(), model)), /item 1: input 'x' has a NaN or infinite value/);
  });
});
