/** evaluate() on the trained fixtures and real data, checked against independent arithmetic. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.js';
import { CancelledError } from '../../src/errors.js';
import { sampleMetric } from '../../src/eval/metric.js';
import { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel } from '../../src/onnx/io.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { DataHasher } from '../../src/calibrate/data/data-hash.js';
import { makeQdqPair, type QdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { ArrayDataset } from './array-dataset.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const expected = JSON.parse(readFileSync(join(FIXTURES, 'trained', 'expected.json'), 'utf8'));
const testSet = () => new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz'));
const engine = new Engine();
let pair: QdqPair;

beforeAll(async () => {
  pair = await makeQdqPair(engine, loadModel(join(TRAINED, 'resnet_bn.onnx')), new NpzDataset(join(FIXTURES, 'data', 'fmnist_calib.npz')));
});
afterAll(() => engine.close());

describe('evaluate', () => {
  it('reproduces the fixture top-1 on the whole test set and finds identical models identical', async () => {
    const r = await evaluate(join(TRAINED, 'resnet_bn.onnx'), join(TRAINED, 'resnet_bn_opset11.onnx'), testSet(), { engine });
    expect(r.task).toBe('classification');
    expect(r.samples).toBe(2000);
    expect(r.reference.scores.top1).toBe(expected.models.resnet_bn.fp32_top1);
    expect(r.candidate.scores.top1).toBe(expected.models.resnet_bn.fp32_top1);
    expect(r.primary).toMatchObject({ name: 'top1', drop: 0, relativeDrop: 0 });
    expect(r.outputs[0]).toMatchObject({ name: 'logits', agreement: 1, sqnrDb: Infinity, mse: 0, maxAbsError: 0 });
    expect(r.reference.sha256).toBe(expected.models.resnet_bn.sha256);
    expect(r.candidate.sha256).toBe(expected.models.resnet_bn_opset11.sha256);
    expect(r.reference.sizeBytes).toBe(expected.models.resnet_bn.file_bytes);
  });

  it('agrees with a direct computation of top-1, agreement and SQNR on an int8 candidate', async () => {
    const r = await evaluate(pair.float, pair.qdq, testSet(), { engine, batchSize: 64 });
    // The same numbers computed directly: one run of each model on all samples.
    const data = testSet();
    const x = data.array('input');
    const n = x.dims[0]!;
    const feeds = { input: x };
    const labels = data.labels()!.data as BigInt64Array;
    const [rs, cs] = [await engine.createSession(pair.float), await engine.createSession(pair.qdq)];
    const ref = asFloat32((await rs.run(feeds)).logits!);
    const cand = asFloat32((await cs.run(feeds)).logits!);
    await rs.release(); await cs.release();
    let signal = 0, noise = 0, agree = 0, refHits = 0, candHits = 0;
    const argmax = (v: Float32Array, i: number) => { let b = 0; for (let j = 1; j < 10; j++) if (v[i * 10 + j]! > v[i * 10 + b]!) b = j; return b; };
    for (let i = 0; i < n * 10; i++) { signal += ref[i]! ** 2; noise += (cand[i]! - ref[i]!) ** 2; }
    for (let i = 0; i < n; i++) {
      const a = argmax(ref, i), b = argmax(cand, i);
      if (a === b) agree++;
      if (a === Number(labels[i])) refHits++;
      if (b === Number(labels[i])) candHits++;
    }
    expect(r.samples).toBe(n);
    expect(r.outputs[0]!.sqnrDb).toBeCloseTo(10 * Math.log10(signal / noise), 6);
    expect(r.outputs[0]!.agreement).toBe(agree / n);
    expect(r.reference.scores.top1).toBe(refHits / n);
    expect(r.candidate.scores.top1).toBe(candHits / n);
    expect(r.primary!.drop).toBeCloseTo(((refHits - candHits) / n) * 100, 9);
    // int8 with sane ranges stays close to the float model.
    expect(r.outputs[0]!.sqnrDb).toBeGreaterThan(25);
    expect(r.candidate.sizeBytes).toBeLessThan(r.reference.sizeBytes * 0.4);
  });

  it('runs a user metric next to the task metrics and can make it primary', async () => {
    const correct = sampleMetric('my_top1', (out, b) => {
      const v = asFloat32(out.logits!);
      const l = b.labels!.data as BigInt64Array;
      return Array.from({ length: b.count }, (_, i) => {
        let best = 0;
        for (let j = 1; j < 10; j++) if (v[i * 10 + j]! > v[i * 10 + best]!) best = j;
        return best === Number(l[i]) ? 1 : 0;
      });
    }, { fraction: true, needsLabels: true });
    const r = await evaluate(pair.float, pair.qdq, testSet(), { engine, limit: 200, metrics: [correct] });
    expect(r.primary!.name).toBe('my_top1');
    expect(r.reference.scores.my_top1).toBe(r.reference.scores.top1);
    expect(r.candidate.scores.my_top1).toBe(r.candidate.scores.top1);
  });

  it('evaluates a fixed-batch model on whole batches and says which samples it left out', async () => {
    const build = (w: number[]) => {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [4, 3]);
      b.output(b.op('MatMul', [x, b.floats('w', [3, 2], w)], {}, { outputNames: ['y'] }));
      return b.build();
    };
    const ref = build([1, 0, 0, 1, 1, 1]);
    const cand = build([1, 0, 0, 1, 1, 1.5]);
    const xs = Float32Array.from({ length: 30 }, (_, i) => (i % 7) - 3);
    const data = new ArrayDataset({ x: { type: 'float32', dims: [10, 3], data: xs } });
    const r = await evaluate(ref, cand, data, { engine, task: 'generic' });
    expect(r.samples).toBe(8);
    expect(r.notes.join(' ')).toMatch(/takes batches of exactly 4; the last 2 samples were left out/);
    // y = [x0 + x2, x1 + w·x2]: only the second column differs, by 0.5·x2.
    let signal = 0, noise = 0;
    for (let i = 0; i < 8; i++) {
      const [a, b, c] = [xs[3 * i]!, xs[3 * i + 1]!, xs[3 * i + 2]!];
      signal += (a + c) ** 2 + (b + c) ** 2;
      noise += (0.5 * c) ** 2;
    }
    expect(r.outputs[0]!.sqnrDb).toBeCloseTo(10 * Math.log10(signal / noise), 9);
    expect(r.outputs[0]!.elements).toBe(16);
    const h = new DataHasher();
    h.update({ x: { type: 'float32', dims: [8, 3], data: xs.subarray(0, 24) } }, 8);
    expect(r.data.sha256).toBe(h.digest());
    expect(r.primary).toBeNull();
  });

  it('scores embeddings by cosine similarity to the reference', async () => {
    const r = await evaluate(pair.float, pair.qdq, testSet(), { engine, limit: 100, task: 'embedding' });
    expect(r.primary!.name).toBe('cosine');
    expect(r.primary!.reference).toBe(1);
    expect(r.primary!.candidate).toBe(r.outputs[0]!.cosine);
    expect(r.primary!.drop).toBeCloseTo((1 - r.outputs[0]!.cosine) * 100, 12);
  });

  it('reports progress and stops when cancelled', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = evaluate(pair.float, pair.qdq, testSet(), {
      engine, batchSize: 100,
      signal: controller.signal,
      onProgress: (e) => { seen.push(e.done); if (e.done >= 300) controller.abort(); },
    });
    await expect(run).rejects.toThrow(CancelledError);
    expect(seen.slice(0, 3)).toEqual([100, 200, 300]);
    expect(seen.at(-1)).toBeLessThan(2000);
  });

  it('names the file, input or flag when the data does not fit, before running inference', async () => {
    const noLabels = new ArrayDataset({ input: { type: 'float32', dims: [2, 1, 28, 28], data: new Float32Array(2 * 784) } });
    await expect(evaluate(pair.float, pair.qdq, noLabels, { engine, task: 'classification' })).rejects.toThrow(/memory: classification needs labels, and the data has none \(arrays: input\)/);
    const wrongName = new ArrayDataset({ image: { type: 'float32', dims: [2, 1, 28, 28], data: new Float32Array(2 * 784) } });
    await expect(evaluate(pair.float, pair.qdq, wrongName, { engine })).rejects.toThrow(/memory: the model needs input 'input' \(float32\), but the data has no array named 'input' \(it has: image\)/);
    await expect(evaluate(pair.float, pair.qdq, testSet(), { engine, output: 'probs' })).rejects.toThrow(/--output 'probs' is not an output of both models \(they share: logits\)/);
    await expect(evaluate(pair.float, pair.qdq, testSet(), { engine, task: 'speech' as never })).rejects.toThrow(/unknown task 'speech'/);
  });
});
