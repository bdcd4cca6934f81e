/**
 * The OCR metrics of the accuracy-budget bench on the rendered text lines (fixtures/ocr): the
 * recognizer's character accuracy module (CTC greedy decode) and top-1 on the classifier's
 * 0/180-degree labels score the float models high, and damaged outputs score lower.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Engine } from '../../src/runtime/engine.js';
import type { TensorData } from '../../src/runtime/types.js';
import { loadMetricModule } from '../../src/eval/metric-module.js';
import type { Metric } from '../../src/eval/metric.js';
import { topK } from '../../src/eval/task-metrics.js';
import { ocrClsBatch, ocrDictionary, ocrRecBatch } from '../../fixtures/ocr/lines.js';
import { ROOT, THIRD_PARTY } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const MODULE = join(ROOT, 'bench', 'lib', 'ctc-char-accuracy.mjs');

function score(metric: Metric, output: TensorData, labels: TensorData): number {
  const acc = metric.create();
  acc.update({ y: output }, { labels, feeds: {}, count: output.dims[0]!, first: 0 });
  return acc.result();
}

async function run(model: string, x: TensorData): Promise<TensorData> {
  const s = await engine.createSession(model);
  try {
    return Object.values(await s.run({ x }))[0]!;
  } finally {
    await s.release();
  }
}

describe('OCR metrics on rendered text lines', () => {
  it('character accuracy: a known answer (repeats merged, blanks and spaces dropped, edit distance)', async () => {
    const metric = await loadMetricModule(MODULE);
    expect(metric.fraction).toBe(true);
    // 5 classes: 0 blank, 1 'a', 2 'b', 3 'c', 4 space. Steps read a a _ b space b -> "abb".
    const steps = [1, 1, 0, 2, 4, 2];
    const probs = new Float32Array(steps.length * 5);
    steps.forEach((c, t) => { probs[t * 5 + c] = 1; });
    const out: TensorData = { type: 'float32', dims: [1, steps.length, 5], data: probs };
    const label = (...c: number[]): TensorData => ({ type: 'int32', dims: [1, 4], data: Int32Array.from([...c, 0, 0, 0, 0].slice(0, 4)) });
    expect(score(metric, out, label(1, 2, 2))).toBe(1);
    expect(score(metric, out, label(1, 4, 2, 2))).toBe(1); // spaces ignored on the label side too
    expect(score(metric, out, label(1, 3, 2))).toBeCloseTo(2 / 3, 12); // one substitution in 3
    expect(score(metric, out, label(1, 2))).toBeCloseTo(0.5, 12); // one insertion against 2
  });

  it('the float recognizer reads the lines; blanking every third time step reads worse', async () => {
    const metric = await loadMetricModule(MODULE);
    const { x, labels } = await ocrRecBatch(32, 8, 5);
    expect(ocrDictionary().length).toBe(6625); // blank + keys + space = the model's classes
    const out = await run(THIRD_PARTY.ocrRec(), x);
    expect(out.dims).toEqual([8, 40, 6625]);
    const fp32 = score(metric, out, labels);
    expect(fp32).toBeGreaterThan(0.95);
    const damaged = new Float32Array(out.data as Float32Array);
    for (let row = 0; row < 8 * 40; row += 3) { damaged.fill(0, row * 6625, (row + 1) * 6625); damaged[row * 6625] = 1; }
    expect(score(metric, { ...out, data: damaged }, labels)).toBeLessThan(fp32 - 0.1);
  });

  it('the float classifier tells upright from rotated lines; swapped classes score low', async () => {
    const { x, labels } = await ocrClsBatch(32, 24, 5);
    const flipped = [...(labels.data as Int32Array)].filter((v) => v === 1).length;
    expect(flipped).toBeGreaterThan(4);
    expect(flipped).toBeLessThan(20);
    const out = await run(THIRD_PARTY.ocrCls(), x);
    const top1 = topK(1, 'y');
    expect(score(top1, out, labels)).toBeGreaterThan(0.9);
    const p = out.data as Float32Array;
    const swapped = Float32Array.from(p, (_, i) => p[i ^ 1]!);
    expect(score(top1, { ...out, data: swapped }, labels)).toBeLessThan(0.1);
  });
});
