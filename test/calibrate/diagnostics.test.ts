/** Diagnostics and the memory budget: what calibration tells the user besides the ranges. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { collectStatistics } from '../../src/calibrate/stats/collector.js';
import { createReducer } from '../../src/calibrate/stats/reducer.js';
import type { HistogramStat, MinMaxStat } from '../../src/calibrate/stats/results.js';
import { clippedFraction, diagnoseTensor, lateGrowth } from '../../src/calibrate/diagnostics.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const resnet = loadModel(join(TRAINED, 'resnet_bn.onnx'));

function feed(batches: Float32Array[]): { minmax: MinMaxStat; histogram: HistogramStat } {
  const m = createReducer({ tensor: 't', kind: 'minmax' });
  const h = createReducer({ tensor: 't', kind: 'histogram' });
  batches.forEach((values, i) => {
    m.update({ values, dims: [1, values.length], samples: 1, seen: i });
    h.update({ values, dims: [1, values.length], samples: 1, seen: i });
  });
  return { minmax: m.result() as MinMaxStat, histogram: h.result() as HistogramStat };
}

describe('per-tensor diagnostics', () => {
  const rng = new Rng(5);

  it('tells a range that still widened in the last 10% of samples from one that settled', () => {
    const settled = feed(Array.from({ length: 20 }, (_, i) => (i === 0 ? Float32Array.of(-3, 3) : rng.uniforms(100, -1, 1))));
    expect(lateGrowth(settled.minmax)).toBe(0);
    expect(diagnoseTensor(settled.minmax, settled.histogram, { min: -3, max: 3 }).stillWidening).toBe(false);
    const late = feed(Array.from({ length: 20 }, (_, i) => (i === 19 ? Float32Array.of(-1, 5) : rng.uniforms(100, -1, 1))));
    const d = diagnoseTensor(late.minmax, late.histogram, { min: -1, max: 5 });
    expect(lateGrowth(late.minmax)).toBeCloseTo(4 / 6, 2);
    expect(d.stillWidening).toBe(true);
    expect(d.warnings.join()).toMatch(/range still widening: the last 10% of samples added 67% of it/);
  });

  it('says nothing of widening when the whole set came in one batch (nothing to compare with)', () => {
    const m = createReducer({ tensor: 't', kind: 'minmax' });
    m.update({ values: rng.uniforms(1600, -1, 1), dims: [16, 100], samples: 16, seen: 0 });
    const one = m.result() as MinMaxStat;
    expect(lateGrowth(one)).toBe(0);
    expect(diagnoseTensor(one, undefined, { min: one.min, max: one.max }).stillWidening).toBe(false);
  });

  it('measures the clipped fraction and flags extreme outliers', () => {
    const values = rng.normals(100_000);
    values[7] = 400; // one value 100 standard deviations out
    const { minmax, histogram } = feed([values]);
    const d = diagnoseTensor(minmax, histogram, { min: -1, max: 1 });
    const outside = values.filter((v) => v < -1 || v > 1).length / values.length;
    expect(Math.abs(d.clippedFraction - outside)).toBeLessThan(0.01);
    expect(d.warnings.join()).toMatch(/extreme outliers: max \|x\| = 400\.0 is \d+x the 99\.99th percentile/);
    expect(d.warnings.join()).toMatch(/the range clips 3\d% of the values seen/);
    expect(clippedFraction(histogram, { min: minmax.min, max: minmax.max })).toBe(0);
  });
});

describe('calibration set diagnostics', () => {
  it('warns about a set that is too small or made of copies', async () => {
    const one = new NpzDataset(CALIB).array('input').data as Float32Array;
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-diag-'));
    const copies = new Float32Array(64 * 784);
    for (let i = 0; i < 64; i++) copies.set(one.subarray(0, 784), i * 784);
    const path = join(dir, 'copies.npz');
    writeFileSync(path, encodeNpz({ input: { type: 'float32', dims: [64, 1, 28, 28], data: copies } }));
    const r = await calibrate(resnet, path, { batchSize: 8 });
    expect(r.notes.join('\n')).toMatch(/no tensor range changed after the first batch: the calibration samples look \(nearly\) identical/);
    const small = await calibrate(resnet, CALIB, { limit: 10 });
    expect(small.notes.join('\n')).toMatch(/only 10 calibration samples/);
    const fine = await calibrate(resnet, CALIB, { limit: 200 });
    expect(fine.notes.join('\n')).not.toMatch(/identical|only \d+ calibration samples/);
  });
});

describe('memory budget', () => {
  it('lowers the batch size, then splits the tensors into passes, with the same statistics', async () => {
    const engine = new Engine({ intraOpThreads: 1 });
    try {
      const tensors = ['/stem/stem.2/Relu_output_0', '/blocks/blocks.0/relu/Relu_output_0', '/blocks/blocks.1/relu/Relu_output_0'];
      const requests = tensors.flatMap((tensor) => [{ tensor, kind: 'minmax' as const }, { tensor, kind: 'channel-l2' as const, axis: 1 }]);
      const data = { limit: 48, batchSize: 16 };
      const roomy = await collectStatistics(resnet, CALIB, requests, { engine, data });
      expect(roomy.notes.join()).not.toMatch(/passes|lowered/);
      // Each tensor fetched whole takes 2 x 4 bytes x its values per sample (two batches in flight): 64 KiB
      // fits none of them at batch 16, nor all three at batch 1.
      const tight = await collectStatistics(resnet, CALIB, requests, { engine, data, memoryBudget: 64 * 1024 });
      const notes = tight.notes.join('\n');
      expect(notes).toMatch(/batch size lowered from 16 to 1 to keep the fetched tensors within the memory budget of 64 KiB/);
      const passes = /the requested tensors need \d+ KiB per batch, over the memory budget of 64 KiB: statistics were collected in (\d) passes over the data/.exec(notes);
      expect(Number(passes?.[1])).toBeGreaterThanOrEqual(2);
      expect(tight.samples).toBe(48);
      expect(tight.dataHash).toBe(roomy.dataHash);
      for (const t of tensors) {
        expect(tight.minmax(t)!.max).toBe(roomy.minmax(t)!.max);
        const a = tight.get({ tensor: t, kind: 'channel-l2', axis: 1 })!.norms;
        const b = roomy.get({ tensor: t, kind: 'channel-l2', axis: 1 })!.norms;
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 3));
      }
    } finally {
      await engine.close();
    }
  });
});
