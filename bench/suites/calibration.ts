/**
 * Calibration cost. Throughput: the data pass of calibrate() (from its first to its last progress
 * event) against plain FP32 inference over the same batches, interleaved, 1 intra-op thread.
 * Fixed costs (type discovery, building the probe session, range search, hashing) are reported
 * apart: they do not grow with the data. Memory: peak RSS of a child process calibrating with
 * Entropy on 100 and on 1,000 samples, and on 6 and 30 random images for the 1024 x 1024
 * segmentation fixture (fixtures/megapixel: 64 MiB activations).
 */
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/onnx/io.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { openDataset } from '../../src/calibrate/data/open.js';
import { defaultCalibrationTensors, nonNegativeTensors } from '../../src/calibrate/stats/tensors.js';
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import { buildProbe } from '../../src/calibrate/stats/probe.js';
import { discoverTensors } from '../../src/calibrate/stats/discover.js';
import { summaryMetrics, type BenchContext, type BenchReport, type BenchSuite } from '../types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(root, 'fixtures', 'data', 'fmnist_test.npz');
const MODELS = ['resnet_bn', 'mobilenet_dw', 'vit_tiny'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** FP32 inference over the same batches, with two runs in flight like the calibration pass (a fair baseline). */
async function plainPass(engine: Engine, model: Model, samples: number): Promise<number> {
  const ds = await openDataset(DATA, model, { limit: samples });
  const session = await engine.createSession(model);
  try {
    const t0 = performance.now();
    let previous: Promise<unknown> | undefined;
    for await (const b of ds.batches()) {
      const run = session.run(b.feeds);
      if (previous) await previous;
      previous = run;
    }
    await previous;
    return performance.now() - t0;
  } finally {
    await session.release();
  }
}

async function calibrationPass(engine: Engine, model: Model, samples: number, method: 'minmax' | 'entropy', tensors: string[]): Promise<{ pass: number; total: number }> {
  let first = 0;
  let last = 0;
  const t0 = performance.now();
  await calibrate(model, DATA, {
    engine, method, tensors, limit: samples,
    onProgress: (e) => { if (e.done === 0) first = performance.now(); last = performance.now(); },
  });
  return { pass: last - first, total: performance.now() - t0 };
}

/**
 * What observing the tensors costs inside ONNX Runtime alone (no JS, no message passing): the probe
 * with ReduceMin/ReduceMax, and with the tensors fetched whole too (what a histogram batch costs), against the plain model, timed in the
 * worker, interleaved. The calibration pass cannot be cheaper than this.
 */
async function runtimeCost(engine: Engine, model: Model, tensors: string[], reps: number): Promise<[number, number, number]> {
  const ds = await openDataset(DATA, model, { limit: 16 });
  let feeds;
  for await (const b of ds.batches()) feeds = b.feeds;
  const names = tensors.filter((t) => !model.graph.inputs.some((v) => v.name === t));
  const info = await discoverTensors(engine, model, names);
  const nonNegative = nonNegativeTensors(model);
  const reqs = names.map((name) => ({ name, type: info.get(name)!.type, rank: info.get(name)!.shape?.length, nonNegative: nonNegative.has(name), extremes: true, full: false }));
  const sessions = [
    await engine.createSession(model),
    await engine.createSession(buildProbe(model, reqs.map((r) => ({ ...r, sample: false }))).model),
    await engine.createSession(buildProbe(model, reqs.map((r) => ({ ...r, sample: true }))).model),
  ];
  // time() fetches every output: the third probe shows a batch on which a histogram reads its tensors.
  const times: number[][] = [[], [], []];
  for (let i = 0; i < reps * 4; i++) for (let k = 0; k < 3; k++) times[k]!.push(median(await sessions[k]!.time(feeds!, 5)));
  for (const s of sessions) await s.release();
  return [median(times[0]!), median(times[1]!), median(times[2]!)];
}

function peakRss(model: string, samples: number, data = DATA): { peakKiB: number; tensors: number; seconds: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'helpers', 'calibration-rss.ts'), model, data, String(samples), 'entropy'], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`calibration-rss failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function run(ctx: BenchContext): Promise<BenchReport> {
  const samples = ctx.quick ? 300 : 1000;
  const reps = ctx.quick ? 1 : 5;
  const rows: (string | number)[][] = [];
  const inRuntime: (string | number)[][] = [];
  const metrics: Record<string, number> = {};
  for (const name of MODELS) {
    const model = loadModel(join(root, 'fixtures', 'models', `${name}.onnx`));
    for (const scope of ['quantizable', 'all'] as const) {
      const tensors = defaultCalibrationTensors(model, scope);
      const t = { plain: [] as number[], minmax: [] as number[], entropy: [] as number[], minmaxTotal: [] as number[], entropyTotal: [] as number[] };
      await plainPass(ctx.engine, model, 64); // warm-up
      for (let i = 0; i < reps; i++) {
        // Interleaved: plain, MinMax, Entropy, plain, ...
        t.plain.push(await plainPass(ctx.engine, model, samples));
        const mm = await calibrationPass(ctx.engine, model, samples, 'minmax', tensors);
        t.minmax.push(mm.pass); t.minmaxTotal.push(mm.total);
        const en = await calibrationPass(ctx.engine, model, samples, 'entropy', tensors);
        t.entropy.push(en.pass); t.entropyTotal.push(en.total);
      }
      const plain = median(t.plain);
      const rMin = median(t.minmax) / plain;
      const rEnt = median(t.entropy) / plain;
      rows.push([name, scope, tensors.length, plain, rMin, rEnt, median(t.minmaxTotal) - median(t.minmax), median(t.entropyTotal) - median(t.entropy)]);
      const [p, e, h] = await runtimeCost(ctx.engine, model, tensors, reps);
      inRuntime.push([name, scope, p, e / p, h / p]);
      metrics[`${name}.${scope}.minmax_pass_ratio`] = rMin;
      metrics[`${name}.${scope}.entropy_pass_ratio`] = rEnt;
      ctx.log(`${name} ${scope}: plain ${plain.toFixed(0)} ms, minmax x${rMin.toFixed(2)}, entropy x${rEnt.toFixed(2)}`);
    }
  }
  const rss: (string | number)[][] = [];
  for (const name of ctx.quick ? ['resnet_bn'] : MODELS) {
    const path = join(root, 'fixtures', 'models', `${name}.onnx`);
    const small = peakRss(path, 100);
    const large = peakRss(path, 1000);
    const ratio = large.peakKiB / small.peakKiB;
    rss.push([name, small.tensors, small.peakKiB / 1024, large.peakKiB / 1024, ratio]);
    metrics[`${name}.entropy_rss_ratio_1000_vs_100`] = ratio;
  }
  // Megapixel: the 1024 x 1024 segmentation fixture (fixtures/megapixel) on 6 and 30 random images.
  const mega: (string | number)[][] = [];
  if (!ctx.quick) {
    const small = peakRss('segmentation1024', 6, 'random');
    const large = peakRss('segmentation1024', 30, 'random');
    const ratio = large.peakKiB / small.peakKiB;
    mega.push(['segmentation1024', small.tensors, small.peakKiB / 1024, large.peakKiB / 1024, ratio, small.seconds, large.seconds]);
    metrics['segmentation1024.entropy_rss_ratio_30_vs_6'] = ratio;
    Object.assign(metrics, summaryMetrics('segmentation1024', 'entropy-30', { calib_peak_mb: (large.peakKiB * 1024) / 1e6 }));
  }
  return {
    tables: [
      { title: `Calibration data pass vs plain FP32 inference, ${samples} samples of fmnist_test, batch 16 (ratio = time / plain time; goals: MinMax <= 1.25, Entropy <= 1.60)`, columns: ['model', 'tensors', 'count', 'plain ms', 'MinMax', 'Entropy', 'MinMax fixed ms', 'Entropy fixed ms'], rows },
      { title: 'Cost inside ONNX Runtime alone: probe time / plain time per batch of 16, measured in the worker (the floor under the pass ratios above)', columns: ['model', 'tensors', 'plain ms', 'extremes', 'extremes + tensors fetched'], rows: inRuntime },
      { title: 'Peak RSS of a child process calibrating with Entropy (goal: 1,000 / 100 <= 1.2)', columns: ['model', 'tensors', '100 samples MiB', '1,000 samples MiB', 'ratio'], rows: rss },
      { title: 'Megapixel: peak RSS of a child process calibrating the 1024 x 1024 segmentation fixture with Entropy on random images (goal: 30 / 6 <= 1.2)', columns: ['model', 'tensors', '6 samples MiB', '30 samples MiB', 'ratio', '6 samples s', '30 samples s'], rows: mega },
    ],
    metrics,
    notes: [
      'fixed ms = calibrate() wall time minus its data pass: type discovery, probe session, range search, model hash; it does not grow with the data',
      'plain = FP32 inference with ONNX Runtime\'s full optimizations over the same batches, two runs in flight like the calibration pass',
    ],
  };
}

export const suite: BenchSuite = { name: 'calibration', description: 'calibration throughput vs FP32 inference, and peak memory vs sample count', run };
