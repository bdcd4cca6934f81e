/**
 * Weight storage for exact int8 on x86 without VNNI, measured on the CPU this runs on: the same
 * ranges and placement with int8 weights (U8S8, exact only with VNNI), uint8 weights (U8U8, the
 * x86-avx2 default), int8 within the int16 pair budget (U8S8 kernels, exact everywhere) and 7-bit
 * weights (ORT's reduce_range). Speed, fidelity against float32 on this CPU, and how many ops
 * could saturate without VNNI. Run it on both kinds of machine: which storage is fastest differs.
 */
import { join } from 'node:path';
import type { BenchReport, BenchSuite, BenchTable } from '../types.js';
import { loadModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { quantize } from '../../src/quantize/quantize.js';
import type { StaticQuantizeOptions } from '../../src/quantize/static/options.js';
import type { WeightPolicy } from '../../src/quantize/weight-encoding.js';
import { findSaturationRisk } from '../../src/eval/saturation.js';
import { describeTarget, resolveTarget } from '../../src/target/resolve.js';
import { resnet50Fixtures, randomImages } from '../../fixtures/imagenet/build.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { top1 } from '../lib/top1.js';
import { latency } from '../lib/paired-latency.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { BENCH_TRANSFORMER, loadTransformer } from '../../fixtures/bench/transformer.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);

type Variant = { label: string; weights: WeightPolicy; reduceRange?: boolean };
const VARIANTS: Variant[] = [
  { label: 'int8 (U8S8; exact only with VNNI)', weights: 'int8' },
  { label: 'uint8 (U8U8; x86-avx2 default)', weights: 'uint8' },
  { label: 'int8 within the pair budget', weights: 'int8-safe' },
  { label: 'int8 7-bit (reduce-range)', weights: 'int8', reduceRange: true },
];

/** Output SQNR (dB) of `b` against `a` on this CPU, over `feeds`. */
async function sqnr(engine: BenchSuiteContext['engine'], a: Model, b: Model, feeds: Feeds[]): Promise<number> {
  const [sa, sb] = [await engine.createSession(a), await engine.createSession(b)];
  let num = 0, den = 0;
  try {
    for (const f of feeds) {
      const x = Object.values(await sa.run(f))[0]!.data as Float32Array;
      const y = Object.values(await sb.run(f))[0]!.data as Float32Array;
      for (let i = 0; i < x.length; i++) { num += (x[i]! - y[i]!) ** 2; den += x[i]! ** 2; }
    }
  } finally {
    await sa.release();
    await sb.release();
  }
  return 10 * Math.log10(den / num);
}
type BenchSuiteContext = Parameters<BenchSuite['run']>[0];

export const suite: BenchSuite = {
  name: 'int8-arithmetic',
  description: 'weight storage for exact int8 without VNNI (int8, uint8, pair budget, 7-bit): speed and fidelity on this CPU',
  async run(ctx): Promise<BenchReport> {
    const metrics: Record<string, number> = {};
    const tables: BenchTable[] = [];
    const target = await resolveTarget('host', ctx.engine);
    const notes = [`${describeTarget(target)}; every ratio below is this CPU's`];
    const static8 = (m: Model, o: StaticQuantizeOptions) => quantize(m, { engine: ctx.engine, placement: 'full', ...o });

    // ResNet-50: the same ranges and placement, four weight stores.
    const r50 = await resnet50Fixtures({ engine: ctx.engine, log: ctx.log });
    const model = loadModel(r50.calibrated);
    const images = randomImages(4, 1234);
    const per = 3 * 224 * 224;
    const held = Array.from({ length: 4 }, (_, i): Feeds => ({ input: { type: 'float32', dims: [1, 3, 224, 224], data: (images.data as Float32Array).slice(i * per, (i + 1) * per) } }));
    ctx.log('resnet50: ranges (16 random calibration images)');
    const { ranges } = await static8(model, { calibration: r50.calibData, speedCheck: false });
    const rows: (string | number)[][] = [];
    for (const v of VARIANTS) {
      ctx.log(`resnet50: ${v.label}`);
      const r = await static8(model, { ranges, weights: v.weights, reduceRange: v.reduceRange ?? false, target: target.name });
      const [f, i] = await latency(ctx, model, r.model, held[0]!);
      const risk = findSaturationRisk(r.model);
      rows.push([v.label, f, i, f / i, await sqnr(ctx.engine, model, r.model, held), risk.length ? `no: ${risk.length} ops` : 'yes']);
      metrics[`resnet50.${v.weights}${v.reduceRange ? '_7bit' : ''}.speedup`] = f / i;
    }
    tables.push({
      title: `ResNet-50 static int8, placement full, batch 1, 1 thread, on ${target.name} (fp32 vs each store, interleaved)`,
      columns: ['weights', 'fp32 ms', 'int8 ms', 'speedup', 'SQNR dB (here)', 'exact without VNNI'],
      rows,
    });

    // Trained fixtures: top-1 of each store on this CPU.
    const calib = FIX('data/fmnist_calib.npz');
    const test = FIX('data/fmnist_test.npz');
    const fixtureRows: (string | number)[][] = [];
    let image: Feeds | undefined;
    for await (const b of new NpzDataset(test).batches(1, { limit: 1 })) image = b.feeds;
    for (const name of ['resnet_bn', 'mobilenet_dw', 'vit_tiny']) {
      const m = loadModel(FIX(`models/${name}.onnx`));
      const fp = await top1(ctx.engine, m, test);
      const row: (string | number)[] = [name, fp];
      for (const v of VARIANTS) {
        const r = await static8(m, { calibration: calib, weights: v.weights, reduceRange: v.reduceRange ?? false, target: target.name });
        const [f, i] = await latency(ctx, m, r.model, image!);
        const drop = (fp - await top1(ctx.engine, r.model, test)) * 100;
        row.push(`${drop.toFixed(2)} pt, ${(f / i).toFixed(2)}x`);
        metrics[`${name}.${v.weights}${v.reduceRange ? '_7bit' : ''}.drop_points`] = drop;
      }
      fixtureRows.push(row);
    }
    tables.push({
      title: 'Trained fixtures, static int8 (placement full): top-1 drop and speedup on this CPU per weight store',
      columns: ['model', 'fp32 top-1', ...VARIANTS.map((v) => v.label)],
      rows: fixtureRows,
    });

    // Dynamic mode on a BERT-width encoder: DynamicQuantizeMatMul with each store.
    ctx.log('transformer: dynamic int8 per weight store');
    const fp32 = loadTransformer(BENCH_TRANSFORMER);
    const rng = new Rng(1);
    const tokens: Feeds = { hidden_states: { type: 'float32', dims: [1, BENCH_TRANSFORMER.seq, BENCH_TRANSFORMER.hidden], data: rng.normals(BENCH_TRANSFORMER.seq * BENCH_TRANSFORMER.hidden) } };
    const dynRows: (string | number)[][] = [];
    for (const v of VARIANTS) {
      const { model: q } = await quantizeDynamic(fp32, { weights: v.weights, reduceRange: v.reduceRange ?? false, target: target.name, engine: ctx.engine });
      const [f, i] = await latency(ctx, fp32, q, tokens);
      dynRows.push([v.label, f, i, f / i, await sqnr(ctx.engine, fp32, q, [tokens])]);
      metrics[`transformer_dynamic.${v.weights}${v.reduceRange ? '_7bit' : ''}.speedup`] = f / i;
    }
    tables.push({
      title: `Dynamic int8, transformer ${BENCH_TRANSFORMER.layers}x${BENCH_TRANSFORMER.hidden}, sequence ${BENCH_TRANSFORMER.seq}, batch 1, 1 thread, on ${target.name}`,
      columns: ['weights', 'fp32 ms', 'int8 ms', 'speedup', 'SQNR dB (here)'],
      rows: dynRows,
    });
    return { tables, metrics, notes };
  },
};
