/** calibrate() and collectStatistics() on trained and synthetic models through the real runtime. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { collectStatistics } from '../../src/calibrate/stats/collector.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { loadRanges, saveRanges } from '../../src/calibrate/store.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { DataError, OptionError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/progress.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { FIXTURES, SYNTHETIC, TRAINED } from '../helpers.js';

const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const resnet = loadModel(join(TRAINED, 'resnet_bn.onnx'));
const engine = new Engine({ intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'slimnet-calib-'));
afterAll(() => engine.close());

describe('calibrate', () => {
  it('minmax ranges equal the extremes of every activation over the data (reference: one plain run)', async () => {
    const events: ProgressEvent[] = [];
    const result = await calibrate(resnet, CALIB, { engine, onProgress: (e) => events.push(e) });
    expect(result.samples).toBe(300);
    expect(result.method).toBe('minmax');
    expect(result.ranges.size).toBeGreaterThan(35);
    // Reference: the whole set in one batch with every calibrated tensor fetched.
    const names = [...result.ranges.keys()].filter((n) => n !== 'input');
    const session = await engine.createSession(resnet, { extraOutputs: names });
    const data = new NpzDataset(CALIB);
    const out = await session.run({ input: data.array('input') }, names);
    await session.release();
    for (const n of names) {
      const v = out[n]!.data as Float32Array;
      let min = 0;
      let max = 0; // ranges always contain 0
      for (const x of v) { if (x < min) min = x; if (x > max) max = x; }
      const r = result.ranges.get(n)!;
      expect(r.min).toBeCloseTo(min, 4);
      expect(r.max).toBeCloseTo(max, 4);
    }
    expect(events[0]).toMatchObject({ stage: 'calibrate', done: 0, total: 300 });
    expect(events.at(-1)).toMatchObject({ done: 300, total: 300 });
    expect(events.some((e) => e.etaSeconds !== undefined && e.etaSeconds > 0)).toBe(true);
    expect(result.diagnostics.every((d) => d.clippedFraction === 0)).toBe(true);
  });

  it('histogram methods clip inside the observed range and say how much', async () => {
    for (const method of ['percentile', 'entropy', 'mse'] as const) {
      const r = await calibrate(resnet, CALIB, { engine, method, limit: 100, target: { type: 'int8', symmetric: true } });
      expect(r.samples).toBe(100);
      let clipping = 0;
      for (const d of r.diagnostics) {
        expect(d.range.min).toBe(-d.range.max);
        expect(d.range.max).toBeLessThanOrEqual(Math.max(-d.observed.min, d.observed.max) + 1e-9);
        if (d.clippedFraction > 0) clipping++;
        // KL divergence is known to clip hard around point masses (the image background): it warns.
        if (method !== 'entropy') expect(d.clippedFraction).toBeLessThan(0.01);
        if (d.clippedFraction > 0.01) expect(d.warnings.join()).toMatch(/the range clips .*% of the values seen/);
      }
      expect(clipping).toBeGreaterThan(0);
    }
  });

  it('hashes the data independently of the batch size, and the subset into it', async () => {
    const tensors = ['input'];
    const a = await calibrate(resnet, CALIB, { engine, tensors, batchSize: 7 });
    const b = await calibrate(resnet, CALIB, { engine, tensors, batchSize: 64 });
    const c = await calibrate(resnet, CALIB, { engine, tensors, limit: 299 });
    expect(a.dataHash).toBe(b.dataHash);
    expect(c.dataHash).not.toBe(a.dataHash);
    expect(a.modelHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('saves ranges.json and loads it back, refusing another model', async () => {
    const result = await calibrate(resnet, CALIB, { engine, method: 'percentile', percentile: 99.9, limit: 64 });
    const path = join(dir, 'ranges.json');
    saveRanges(result, path, { modelSource: 'resnet_bn.onnx' });
    const loaded = loadRanges(path, loadModel(join(TRAINED, 'resnet_bn.onnx')));
    expect(loaded.ranges).toEqual(result.ranges);
    expect(loaded).toMatchObject({ method: 'percentile', percentile: 99.9, samples: 64, modelHash: result.modelHash, dataHash: result.dataHash, target: { type: 'uint8', symmetric: false } });
    const other = loadModel(join(TRAINED, 'mobilenet_dw.onnx'));
    expect(() => loadRanges(path, other)).toThrow(DataError);
    expect(() => loadRanges(path, other)).toThrow(/ranges\.json: these ranges were computed for another model \(sha256 [0-9a-f]{12}, resnet_bn\.onnx\), not for .*mobilenet_dw\.onnx \(sha256 [0-9a-f]{12}\); re-run slimnet calibrate/);
    writeFileSync(join(dir, 'junk.json'), '{"schema": "something else"}');
    expect(() => loadRanges(join(dir, 'junk.json'))).toThrow(/junk\.json: not a slimnet ranges file/);
    expect(() => loadRanges(join(dir, 'none.json'))).toThrow(/none\.json: no such file/);
    // Hand-edited files: each broken field named (these were TypeErrors).
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const edited = (name: string, change: Record<string, unknown>) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify({ ...doc, ...change }));
      return () => loadRanges(p);
    };
    expect(edited('no-ranges.json', { ranges: undefined })).toThrow(/no-ranges\.json: 'ranges' must be an object of tensor name: \{min, max\} \(got nothing\)/);
    expect(edited('null-ranges.json', { ranges: null })).toThrow(/'ranges' must be an object .* \(got null\)/);
    expect(edited('notes.json', { notes: 5 })).toThrow(/notes\.json: 'notes' must be a list \(got 5\)/);
    expect(edited('no-model.json', { model: undefined })).toThrow(/no-model\.json: 'model\.sha256' must name the model/);
  });

  it('rejects unknown tensors and weights by name', async () => {
    await expect(calibrate(resnet, CALIB, { engine, tensors: ['nope'] })).rejects.toThrow(OptionError);
    await expect(calibrate(resnet, CALIB, { engine, tensors: ['nope'] })).rejects.toThrow(/no tensor named 'nope' in the main graph/);
    const weight = [...resnet.graph.initializers.keys()][0]!;
    await expect(calibrate(resnet, CALIB, { engine, tensors: [weight] })).rejects.toThrow(/is a weight \(initializer\)/);
  });
});

describe('collectStatistics', () => {
  const transformer = loadModel(join(SYNTHETIC, 'transformer_block.onnx'));
  const feeds = sampleFeeds('transformer_block', 12, 3);
  const path = join(dir, 'tokens.npz');
  writeFileSync(path, encodeNpz(feeds));
  const ln = transformer.graph.nodes.find((n) => n.opType === 'LayerNormalization')!.outputs[0]!.name;

  it('merges requests into one pass: xtx and channel-l2 of a MatMul input, skipping non-float tensors', async () => {
    const stats = await collectStatistics(transformer, path, [
      { tensor: ln, kind: 'xtx' },
      { tensor: ln, kind: 'channel-l2', axis: -1 },
      { tensor: ln, kind: 'minmax' },
      { tensor: ln, kind: 'minmax' },
      { tensor: 'input_ids', kind: 'minmax' },
    ], { engine, data: { batchSize: 5 } });
    expect(stats.samples).toBe(12);
    expect(stats.batches).toBe(3);
    expect(stats.notes.join()).toMatch(/tensor 'input_ids' is int64, not float/);
    expect(stats.minmax('input_ids')).toBeUndefined();
    // Reference: the tensor fetched for all 12 samples at once.
    const session = await engine.createSession(transformer, { extraOutputs: [ln] });
    const x = (await session.run(feeds, [ln]))[ln]!.data as Float32Array;
    await session.release();
    const gram = stats.get({ tensor: ln, kind: 'xtx' })!;
    const l2 = stats.get({ tensor: ln, kind: 'channel-l2', axis: -1 })!;
    expect(gram.size).toBe(32);
    expect(gram.rows).toBe(12 * 8);
    for (const [i, j] of [[0, 0], [3, 17], [31, 5]] as const) {
      let ref = 0;
      for (let r = 0; r < 96; r++) ref += x[r * 32 + i]! * x[r * 32 + j]!;
      expect(gram.gram[i * 32 + j]).toBeCloseTo(ref, 3);
      if (i === j) expect(l2.norms[i]! ** 2).toBeCloseTo(ref, 3);
    }
  });
});

describe('which tensors', () => {
  it("'all' skips Conv outputs that ONNX Runtime folds into a BatchNormalization; 'quantizable' keeps Q/DQ points", async () => {
    const { defaultCalibrationTensors, nonNegativeTensors } = await import('../../src/calibrate/stats/tensors.js');
    const all = defaultCalibrationTensors(resnet, 'all');
    const convFeedingBn = resnet.graph.nodes.filter((n) => n.opType === 'Conv' && n.outputs[0]!.consumers().every((c) => c.opType === 'BatchNormalization')).map((n) => n.outputs[0]!.name);
    expect(convFeedingBn.length).toBeGreaterThan(10);
    for (const c of convFeedingBn) expect(all).not.toContain(c);
    const bnOutputs = resnet.graph.nodes.filter((n) => n.opType === 'BatchNormalization').map((n) => n.outputs[0]!.name);
    for (const b of bnOutputs) expect(all).toContain(b);
    const q = defaultCalibrationTensors(resnet, 'quantizable');
    expect(q.length).toBeLessThan(all.length);
    expect(q).toContain('input');
    expect(q).toContain('logits');
    // A BatchNormalization output that only feeds a Relu is folded into the Relu's range.
    const bnIntoRelu = resnet.graph.nodes.find((n) => n.opType === 'BatchNormalization' && n.outputs[0]!.consumers().every((c) => c.opType === 'Relu'))!;
    expect(q).not.toContain(bnIntoRelu.outputs[0]!.name);
    expect(q).toContain(bnIntoRelu.outputs[0]!.consumers()[0]!.outputs[0]!.name);
    const nonNegative = nonNegativeTensors(resnet);
    expect([...nonNegative].every((n) => resnet.graph.nodes.find((x) => x.outputs[0]?.name === n)?.opType === 'Relu')).toBe(true);
    expect(nonNegative.size).toBeGreaterThan(5);
  });
});

describe('histogram sampling', () => {
  it('reads whole tensors on a spread subset of batches, with ranges close to reading everything', async () => {
    const tensor = '/blocks/blocks.0/relu/Relu_output_0';
    const requests = [{ tensor, kind: 'minmax' as const }, { tensor, kind: 'histogram' as const }];
    const every = await collectStatistics(resnet, CALIB, requests, { engine, histogramSample: 0, data: { batchSize: 10 } });
    const some = await collectStatistics(resnet, CALIB, requests, { engine, histogramSample: 40_000, data: { batchSize: 10 } });
    const all = every.histogram(tensor)!;
    const part = some.histogram(tensor)!;
    expect(all.total).toBe(300 * 16 * 14 * 14);
    // 40,000 values wanted, 31,360 per batch: every 15th of 30 batches, twice.
    expect(part.total).toBe(2 * 10 * 16 * 14 * 14);
    // Exact extremes still come from every batch.
    expect(part.max).toBe(all.max);
    expect(some.minmax(tensor)!.max).toBe(every.minmax(tensor)!.max);
    const { percentileRange } = await import('../../src/calibrate/ranges/percentile.js');
    const a = percentileRange(all, 99.9, false).max;
    const b = percentileRange(part, 99.9, false).max;
    expect(Math.abs(a - b) / a).toBeLessThan(0.1);
  });
});
