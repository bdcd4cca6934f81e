/**
 * Wall time of `slimnet quantize` (static, default placement search, and --placement full) per
 * model, next to what one float inference costs there (batch 1, 1 intra-op thread) and split by
 * phase (pre-processing, ranges, placement, speed check; from the quantizer's progress events).
 * Issue 14's reference: ONNX Runtime's Python quantizer (MinMax, per-channel QDQ) took 12.4 s on
 * ResNet-50 on an AMD EPYC; the goal is <= 0.5x that.
 */
import { join } from 'node:path';
import { summaryMetrics, type BenchReport, type BenchSuite } from '../types.js';
import { loadModel } from '../../src/onnx/io.js';
import { quantize } from '../../src/quantize/quantize.js';
import { measureInterleaved } from '../../src/tune/latency.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import type { StaticQuantizeOptions } from '../../src/quantize/static/options.js';
import { randomImages, resnet50Fixtures } from '../../fixtures/imagenet/build.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);
/** Issue 14: ORT's quantize_static (MinMax, per-channel QDQ) on ResNet-50, AMD EPYC. */
const ORT_MINMAX_RESNET50_S = 12.4;

interface Case {
  name: string;
  model: Model;
  calib: string;
  feeds: Feeds;
}

/** Seconds of each quantize phase (the progress messages) and the total. */
async function timedQuantize(model: Model, options: StaticQuantizeOptions): Promise<{ total: number; phases: Map<string, number> }> {
  const phases = new Map<string, number>();
  let phase = 'start';
  let since = performance.now();
  const t0 = since;
  await quantize(model, {
    ...options,
    onProgress: (e) => {
      if (e.stage !== 'quantize' || !e.message || e.message === phase) return;
      const now = performance.now();
      phases.set(phase, (phases.get(phase) ?? 0) + (now - since) / 1000);
      phase = e.message;
      since = now;
    },
  });
  const end = performance.now();
  phases.set(phase, (phases.get(phase) ?? 0) + (end - since) / 1000);
  return { total: (end - t0) / 1000, phases };
}

const short = (message: string) => message.split(/[ (:,]/)[0]!;

export const suite: BenchSuite = {
  name: 'quantize-time',
  description: 'slimnet quantize wall time per model (default search and --placement full) next to one float inference, by phase; ResNet-50 against ORT\'s 12.4 s',
  async run(ctx): Promise<BenchReport> {
    let image: Feeds | undefined;
    for await (const b of new NpzDataset(FIX('data/fmnist_test.npz')).batches(1, { limit: 1 })) image = { input: b.feeds.input! };
    const cases: Case[] = ['resnet_bn', 'mobilenet_dw', 'vit_tiny'].map((name) => ({ name, model: loadModel(FIX(`models/${name}.onnx`)), calib: FIX('data/fmnist_calib.npz'), feeds: image! }));
    if (!ctx.quick) {
      const r50 = await resnet50Fixtures({ engine: ctx.engine, log: ctx.log });
      cases.push({ name: 'resnet50', model: loadModel(r50.calibrated), calib: r50.calibData, feeds: { input: randomImages(1, 77) } });
    }
    const rows: (string | number)[][] = [];
    const metrics: Record<string, number> = {};
    for (const c of cases) {
      const [float] = await measureInterleaved([c.model], c.feeds, { engine: ctx.engine, runs: ctx.quick ? 5 : 20, warmup: 3 });
      const floatMs = float!.medianMs;
      for (const placement of ['auto', 'full'] as const) {
        ctx.log(`${c.name}: quantize, placement ${placement}`);
        const { total, phases } = await timedQuantize(c.model, { calibration: c.calib, placement, engine: ctx.engine });
        const split = [...phases].filter(([, s]) => s >= 0.05).map(([p, s]) => `${short(p)} ${s.toFixed(1)}`).join(', ');
        rows.push([c.name, placement, total.toFixed(1), floatMs.toFixed(3), Math.round((total * 1000) / floatMs), split, c.name === 'resnet50' ? (total / ORT_MINMAX_RESNET50_S).toFixed(2) : '-']);
        Object.assign(metrics, summaryMetrics(c.name, `static-${placement}`, { quantize_s: total }));
        metrics[`${c.name}.static-${placement}.quantize_in_float_runs`] = (total * 1000) / floatMs;
      }
    }
    return {
      tables: [{ title: 'slimnet quantize wall time (static, calibration included) and one float inference (batch 1, 1 thread)', columns: ['model', 'placement', 'quantize s', 'float ms', 'quantize / float run', 'by phase (s)', 'vs ORT MinMax 12.4 s'], rows }],
      metrics,
      notes: ['ORT MinMax 12.4 s is the figure in issue 14 (ONNX Runtime\'s Python quantize_static, per-channel QDQ, ResNet-50, AMD EPYC), not re-measured here: onnxruntime\'s Python package is not installable on this machine'],
    };
  },
};
