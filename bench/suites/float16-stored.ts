/**
 * Float16-stored models (fixtures/models/float16, built by fixtures/float16/build.ts): the trained
 * ResNet with float16 weights behind Casts, with float16 residual Adds, and with float16 I/O.
 * Static int8 (default placement search) and dynamic: quantize time, size and top-1 against the
 * float16 model, and speed against it (paired, interleaved, 1 intra-op thread, batch 1 and 32).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport, BenchSuite } from '../types.js';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { quantize } from '../../src/quantize/quantize.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { encodeFloat16 } from '../../src/ir/float-formats.js';
import { DataType } from '../../src/ir/data-type.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { latency } from '../lib/paired-latency.js';
import { storeWeightsInFloat16 } from '../../fixtures/float16/build.js';
import { randomImages, resnet50Fixtures } from '../../fixtures/imagenet/build.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);
const NAMES = ['resnet_bn_f16w', 'resnet_bn_f16add', 'resnet_bn_f16io'];
const BATCHES = [1, 32];

export const suite: BenchSuite = {
  name: 'float16-stored',
  description: 'float16-stored ResNet fixtures and ResNet-50 with float16 weights: int8 quantize time, size, top-1 and speed against the float16 model',
  async run(ctx): Promise<BenchReport> {
    const metrics: Record<string, number> = {};
    const rows: (string | number)[][] = [];
    // Batch 1 (one image at a time: per-run overheads dominate a 28x28 model) and batch 32.
    const images = new Map<number, Feeds>();
    for (const n of BATCHES) for await (const b of new NpzDataset(FIX('data/fmnist_test.npz')).batches(n, { limit: n })) images.set(n, { input: b.feeds.input! });
    for (const name of NAMES) {
      const path = FIX(`models/float16/${name}.onnx`);
      const model = loadModel(path);
      const half = model.graph.inputs[0]!.elemType === DataType.FLOAT16;
      const feedsAt = (n: number): Feeds => {
        const x = images.get(n)!.input!;
        return half ? { input: { type: 'float16', dims: x.dims, data: encodeFloat16(x.data as Float32Array) } } : images.get(n)!;
      };
      for (const mode of ['static', 'dynamic'] as const) {
        ctx.log(`${name}: ${mode}`);
        const t0 = performance.now();
        const r = mode === 'static' ? await quantize(model, { calibration: FIX('data/fmnist_calib.npz'), engine: ctx.engine }) : await quantize(model, { mode, engine: ctx.engine });
        const seconds = (performance.now() - t0) / 1000;
        const q: Model = r.model;
        const ev = await evaluate(model, q, FIX('data/fmnist_test.npz'), { engine: ctx.engine });
        const size = modelToBytes(q).length / statSync(path).size;
        const key = `${name}.int8-${mode}`;
        const drop = (ev.reference.scores.top1! - ev.candidate.scores.top1!) * 100;
        metrics[`${key}.quantize_s`] = seconds;
        metrics[`${key}.size_ratio`] = size;
        metrics[`${key}.accuracy_drop`] = drop;
        for (const n of BATCHES) {
          const [tf, tq] = await latency(ctx, model, q, feedsAt(n));
          metrics[`${key}.speedup${n === 1 ? '' : `_batch${n}`}`] = tf / tq;
          rows.push([name, mode, n, seconds.toFixed(1), (ev.reference.scores.top1! * 100).toFixed(2), (ev.candidate.scores.top1! * 100).toFixed(2), drop.toFixed(2), size.toFixed(2), tf.toFixed(3), tq.toFixed(3), (tf / tq).toFixed(2)]);
        }
      }
    }
    // A real-size CNN: the ImageNet-shaped ResNet-50 fixture with its weights stored in float16.
    {
      const r50 = await resnet50Fixtures({ engine: ctx.engine, log: ctx.log });
      const model = loadModel(r50.calibrated);
      storeWeightsInFloat16(model);
      const f16Bytes = modelToBytes(model).length;
      const image = { input: randomImages(1, 77) };
      for (const mode of ['static', 'dynamic'] as const) {
        ctx.log(`resnet50_f16w: ${mode}${mode === 'static' ? ' (16 random calibration images)' : ''}`);
        const t0 = performance.now();
        const r = mode === 'static' ? await quantize(model, { calibration: r50.calibData, engine: ctx.engine }) : await quantize(model, { mode, engine: ctx.engine });
        const seconds = (performance.now() - t0) / 1000;
        const [tf, tq] = await latency(ctx, model, r.model, image);
        const size = modelToBytes(r.model).length / f16Bytes;
        metrics[`resnet50_f16w.int8-${mode}.quantize_s`] = seconds;
        metrics[`resnet50_f16w.int8-${mode}.size_ratio`] = size;
        metrics[`resnet50_f16w.int8-${mode}.speedup`] = tf / tq;
        rows.push(['resnet50_f16w', mode, 1, seconds.toFixed(1), '-', '-', '-', size.toFixed(2), tf.toFixed(2), tq.toFixed(2), (tf / tq).toFixed(2)]);
        const folded = r.summary.notes?.find((n) => n.startsWith('folded'));
        if (folded) ctx.log(`resnet50_f16w: ${folded}`);
      }
    }
    return {
      tables: [{ title: 'float16-stored models: int8 against the float16 model (1 thread, interleaved)', columns: ['model', 'mode', 'batch', 'quantize s', 'fp16 top-1 %', 'int8 top-1 %', 'drop pts', 'size ratio', 'fp16 ms', 'int8 ms', 'speedup'], rows }],
      metrics,
      notes: ['speedup and size ratio are against the float16-stored model (its file, its latency), not a float32 one; dynamic mode quantizes the classifier and stores the convolution weights in int8 while they compute in float (ConvInteger is slower than float Conv on CPU), so its speedup stays near 1 and its file is about half the float16 one'],
    };
  },
};
