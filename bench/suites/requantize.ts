/**
 * --requantize: models in ONNX Runtime's dynamic layout (ConvInteger / MatMulInteger, built by
 * fixtures/requantize/build.ts; ResNet-50 from fixtures/generated the same way) re-quantized
 * statically on their given int8 weights (default placement search). Quantize time, top-1 of the
 * float source, the given int8 model and the result, and the three latencies interleaved
 * (1 intra-op thread, batch 1, fresh sessions in both orders).
 */
import { join } from 'node:path';
import { summaryMetrics, type BenchReport, type BenchSuite } from '../types.js';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { quantize } from '../../src/quantize/quantize.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { latencies } from '../lib/paired-latency.js';
import { top1 } from '../lib/top1.js';
import { dynamicLikeOrt, REQUANTIZE_FIXTURES } from '../../fixtures/requantize/build.js';
import { randomImages, resnet50Fixtures } from '../../fixtures/imagenet/build.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);

interface Case {
  name: string;
  float: Model;
  given: Model;
  calib: string;
  feeds: Feeds;
  /** Labelled test data, when the model was trained. */
  test?: string;
}

export const suite: BenchSuite = {
  name: 'requantize',
  description: 'ONNX Runtime dynamic int8 models (ConvInteger/MatMulInteger) re-quantized statically with --requantize: speed against the given int8 model and the float source, top-1',
  async run(ctx): Promise<BenchReport> {
    const metrics: Record<string, number> = {};
    const rows: (string | number)[][] = [];
    let image: Feeds | undefined;
    for await (const b of new NpzDataset(FIX('data/fmnist_test.npz')).batches(1, { limit: 1 })) image = { input: b.feeds.input! };
    const cases: Case[] = Object.entries(REQUANTIZE_FIXTURES).map(([name, { source }]) => ({
      name, float: loadModel(FIX(`models/${source}`)), given: loadModel(FIX(`models/requantize/${name}.onnx`)), calib: FIX('data/fmnist_calib.npz'), feeds: image!, test: FIX('data/fmnist_test.npz'),
    }));
    if (!ctx.quick) {
      const r50 = await resnet50Fixtures({ engine: ctx.engine, log: ctx.log });
      cases.push({ name: 'resnet50_dyn (uint8 ConvInteger)', float: loadModel(r50.calibrated), given: await dynamicLikeOrt(r50.calibrated, 'uint8', ctx.engine), calib: r50.calibData, feeds: { input: randomImages(1, 77) } });
    }
    for (const c of cases) {
      ctx.log(`${c.name}: requantize`);
      const t0 = performance.now();
      const r = await quantize(c.given, { calibration: c.calib, requantize: true, engine: ctx.engine });
      const seconds = (performance.now() - t0) / 1000;
      const [tf, tg, tq] = await latencies(ctx, [c.float, c.given, r.model], c.feeds);
      let acc: number[] | undefined;
      if (c.test) {
        acc = [];
        for (const m of [c.float, c.given, r.model]) acc.push(await top1(ctx.engine, m, c.test));
      }
      const subject = c.name.split(' ')[0]!;
      // The summary's row is against the float source; the given int8 model has its own metric.
      Object.assign(metrics, summaryMetrics(subject, 'requantize', {
        speedup: tf! / tq!, quantize_s: seconds, size_ratio: modelToBytes(r.model).length / modelToBytes(c.float).length,
        ...(acc ? { accuracy_drop: (acc[0]! - acc[2]!) * 100 } : {}),
      }));
      metrics[`${subject}.requantize.speedup_vs_given`] = tg! / tq!;
      if (acc) metrics[`${subject}.requantize.drop_vs_given_points`] = (acc[1]! - acc[2]!) * 100;
      const pct = (x: number | undefined) => (x === undefined ? '-' : (x * 100).toFixed(2));
      rows.push([c.name, r.decisions.placement, seconds.toFixed(1), pct(acc?.[0]), pct(acc?.[1]), pct(acc?.[2]), tf!.toFixed(3), tg!.toFixed(3), tq!.toFixed(3), (tg! / tq!).toFixed(2), (tf! / tq!).toFixed(2)]);
    }
    return {
      tables: [{ title: '--requantize: float source, given dynamic int8 (ORT layout) and re-quantized static int8 (batch 1, 1 thread, interleaved)', columns: ['model', 'placement', 'quantize s', 'float top-1 %', 'given top-1 %', 'requant top-1 %', 'float ms', 'given ms', 'requant ms', 'x given', 'x float'], rows }],
      metrics,
      notes: ['given int8 weights keep their integers, scales and zero points (uint8 ones are written as int8 q - 128 with zero point zp - 128 where u8 x s8 sums are exact: the same grid); the float source of resnet50_dyn has random weights (no top-1)'],
    };
  },
};
