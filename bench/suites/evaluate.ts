/**
 * The evaluator's own benchmark, on the trained fixtures quantized by slimnet (static int8, QDQ)
 * and by hand (fixtures/qdq/hand-qdq.ts, which keeps its Relus):
 *  - what the evaluator reports for each int8 model: drop, agreement, SQNR, speedup, size ratio;
 *  - what evaluation costs: evaluate() time against plain inference of both models on the same data;
 *  - whether per-layer analysis finds an injected bad range: the culprit's rank under each ranking.
 * (The static-int8 suite owns the quantizer's numbers; these rows check the evaluator's.)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from '../../src/eval/evaluate.js';
import { analyzeLayers } from '../../src/eval/per-layer.js';
import { rankLayers, type RankBy } from '../../src/eval/layer-report.js';
import { measureInterleaved } from '../../src/tune/latency.js';
import { modelSizeBytes } from '../../src/eval/hash.js';
import { loadModel } from '../../src/onnx/io.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import type { Feeds } from '../../src/runtime/types.js';
import { makeQdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { quantize } from '../../src/quantize/quantize.js';
import type { Model } from '../../src/ir/model.js';
import { soleReaderQuantizers, withBadRange } from '../../fixtures/qdq/bad-range.js';
import { summaryMetrics, type BenchContext, type BenchReport, type BenchSuite } from '../types.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const MODELS = ['resnet_bn', 'mobilenet_dw', 'vit_tiny'];

/** A float model and its int8 QDQ version. */
interface Pair { float: Model; qdq: Model }

function firstRows(data: NpzDataset, n: number): Feeds {
  const x = data.array('input');
  return { input: { ...x, dims: [n, ...x.dims.slice(1)], data: (x.data as Float32Array).subarray(0, n * 784) } };
}

/** Plain inference of both models over the data, batch 32: the floor evaluate() is measured against. */
async function plainInference(ctx: BenchContext, pair: Pair, data: NpzDataset): Promise<number> {
  const sessions = [await ctx.engine.createSession(pair.float), await ctx.engine.createSession(pair.qdq)];
  const t0 = performance.now();
  for await (const b of data.batches(32)) for (const s of sessions) await s.run(b.feeds);
  const ms = performance.now() - t0;
  for (const s of sessions) await s.release();
  return ms;
}

/** Layers that alone read an activation quantizer, spread over the model: a bad range there has one layer to blame. */
function culprits(pair: Pair, count: number): string[] {
  const single = soleReaderQuantizers(pair.qdq).map((c) => c.layer);
  const step = Math.max(1, Math.floor(single.length / count));
  return single.filter((_, i) => i % step === step >> 1).slice(0, count);
}

export const suite: BenchSuite = {
  name: 'evaluate',
  description: 'evaluator: int8 accuracy/speed/size on the fixtures, evaluation overhead, per-layer blame accuracy',
  async run(ctx): Promise<BenchReport> {
    const calib = new NpzDataset(join(root, 'fixtures', 'data', 'fmnist_calib.npz'));
    const test = new NpzDataset(join(root, 'fixtures', 'data', 'fmnist_test.npz'));
    const metrics: Record<string, number> = {};
    const quality: (string | number)[][] = [];
    const cost: (string | number)[][] = [];
    const blame: (string | number)[][] = [];
    const rankings: RankBy[] = ['sensitivity', 'recovery', 'quantization'];
    const hits: Record<RankBy, number> = { sensitivity: 0, recovery: 0, quantization: 0 };
    let trials = 0;
    const calibPath = join(root, 'fixtures', 'data', 'fmnist_calib.npz');
    for (const [name, how] of MODELS.flatMap((m) => [[m, 'slimnet'], [m, 'hand']] as const)) {
      const source = loadModel(join(root, 'fixtures', 'models', `${name}.onnx`));
      // Reference = the model that was quantized: float weights match exactly, Relu folds are found.
      const pair: Pair = how === 'hand'
        ? await makeQdqPair(ctx.engine, source, calib)
        : { float: source, qdq: (await quantize(source, { engine: ctx.engine, calibration: calibPath, speedCheck: false })).model };
      const label = `${name} (${how})`;

      const t0 = performance.now();
      const e = await evaluate(pair.float, pair.qdq, test, { engine: ctx.engine });
      const evalMs = performance.now() - t0;
      const plainMs = await plainInference(ctx, pair, test);
      const runs = ctx.quick ? 20 : 200;
      const [b1f, b1q, b32f, b32q] = await measureInterleaved([pair.float, pair.qdq, pair.float, pair.qdq], [firstRows(test, 1), firstRows(test, 1), firstRows(test, 32), firstRows(test, 32)], { engine: ctx.engine, runs, warmup: 20 });
      const sizeRatio = modelSizeBytes(pair.qdq) / modelSizeBytes(pair.float);
      const speedup = b32f!.medianMs / b32q!.medianMs;
      const out = e.outputs[0]!;
      quality.push([label, e.reference.scores.top1!, e.candidate.scores.top1!, e.primary!.drop, out.agreement ?? NaN, out.sqnrDb, b1f!.medianMs / b1q!.medianMs, speedup, sizeRatio]);
      cost.push([label, e.samples, evalMs, plainMs, evalMs / plainMs]);
      if (how === 'hand') Object.assign(metrics, summaryMetrics(name, 'hand-qdq-int8', { accuracy_drop: e.primary!.drop, speedup, size_ratio: sizeRatio }));
      metrics[`${name}.${how}_qdq.sqnr_db`] = out.sqnrDb;
      metrics[`${name}.${how}_qdq.evaluate_overhead`] = evalMs / plainMs;
      ctx.log(`${label}: drop ${e.primary!.drop.toFixed(2)} pt, SQNR ${out.sqnrDb.toFixed(1)} dB, speedup ${speedup.toFixed(2)}x at batch 32`);

      for (const layer of culprits(pair, ctx.quick ? 1 : 3)) {
        const t1 = performance.now();
        const a = await analyzeLayers(withBadRange(pair.qdq, layer, 0.25), test, { engine: ctx.engine, reference: pair.float, sensitivity: 'both' });
        const ms = performance.now() - t1;
        const ranks = rankings.map((r) => rankLayers(a.layers, r).findIndex((l) => l.node === layer) + 1);
        rankings.forEach((r, i) => { if (ranks[i] === 1) hits[r]++; });
        trials++;
        blame.push([label, layer, a.layers.length, ...ranks, a.model.sqnrDb, ms / 1000]);
      }
    }
    for (const r of rankings) metrics[`layer_blame.${r}_top1_rate`] = hits[r] / trials;
    return {
      tables: [
        { title: 'int8 QDQ (slimnet static with every op int8, no speed search; hand-made) vs FP32: 2000 test images; speed: median of interleaved runs, 1 thread', columns: ['model', 'fp32 top1', 'int8 top1', 'drop (pt)', 'agreement', 'SQNR (dB)', 'speedup b1', 'speedup b32', 'size ratio'], rows: quality },
        { title: 'Cost of evaluate() against plain inference of both models (batch 32)', columns: ['model', 'samples', 'evaluate (ms)', 'inference (ms)', 'ratio'], rows: cost },
        { title: 'Per-layer blame: rank of the layer given a bad range (factor 0.25), 32 samples, sensitivity both', columns: ['model', 'culprit', 'layers', 'rank: only-this', 'rank: all-but', 'rank: quantizers', 'model SQNR (dB)', 'analysis (s)'], rows: blame },
      ],
      metrics,
      notes: [
        `per-layer analysis put the culprit first in ${hits.sensitivity}/${trials} (sensitivity), ${hits.recovery}/${trials} (recovery), ${hits.quantization}/${trials} (quantization) trials`,
        'hand: fixtures/qdq/hand-qdq.ts (Relus kept, min/max ranges from 100 samples); slimnet: quantize() with speedCheck off, so placement full (every op with an int8 kernel in int8, no timing search: this suite measures the evaluator on fully quantized models; the static-int8 suite reports what the quantizer\'s default writes, which is never slower than float). The summary rows are the hand-made models',
      ],
    };
  },
};
