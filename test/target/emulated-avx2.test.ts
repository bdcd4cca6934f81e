/**
 * The saturation itself, and the default's exactness, on an x86 CPU without VNNI emulated by qemu
 * (test/emulated/emulator.ts): ONNX Runtime's real AVX2 kernels, on any x86-64 machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, saveModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Feeds } from '../../src/runtime/types.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { probeU8S8 } from '../../src/target/int8-probe.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { findSaturationRisk } from '../../src/eval/saturation.js';
import { emulationUnavailable, runOrt } from '../emulated/emulator.js';
import { FIXTURES, TRAINED } from '../helpers.js';

if (emulationUnavailable) console.warn(`skipping the emulated x86-without-VNNI tests: ${emulationUnavailable}`);

const engine = new Engine({ intraOpThreads: 1 });
let dir = '';
let images: Feeds;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slimnet-avx2-'));
  for await (const b of new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz')).batches(16, { limit: 16 })) { images = b.feeds; break; }
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Relative RMS error of `got` against `ref`. */
function rel(got: Float32Array, ref: Float32Array): number {
  let n = 0, d = 0;
  for (let i = 0; i < ref.length; i++) { n += (got[i]! - ref[i]!) ** 2; d += ref[i]! ** 2; }
  return Math.sqrt(n / d);
}
const logits = (out: ReturnType<typeof runOrt>) => Object.values(out)[0]!.data as Float32Array;

describe.skipIf(emulationUnavailable !== undefined)('on an emulated x86 CPU without VNNI (qemu, Haswell)', () => {
  it('u8 x s8 pairs saturate there, exact with x64quantprecision, and on this CPU exactly when it has VNNI', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const a = b.input('a', DataType.UINT8, [1, 64]);
    b.output(b.op('MatMulInteger', [a, b.initializer('w', Tensor.fromTyped(DataType.INT8, [64, 1], new Int8Array(64).fill(127)))], {}, { outputNames: ['y'] }));
    const path = join(dir, 'probe.onnx');
    saveModel(b.build(), path);
    const feeds: Feeds = { a: { type: 'uint8', dims: [1, 64], data: new Uint8Array(64).fill(255) } };
    expect(logits(runOrt(path, feeds, { emulated: true }))[0]).toBe(32 * 32767);
    expect(logits(runOrt(path, feeds, { emulated: true, config: { x64quantprecision: '1' } }))[0]).toBe(255 * 127 * 64);
    const native = logits(runOrt(path, feeds, { emulated: false }))[0];
    expect(native).toBe((await probeU8S8(engine)).measured);
  });

  it('dynamic: the default for x86-avx2 is exact there; plain int8 weights lose accuracy', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const ref = logits(runOrt(join(TRAINED, 'vit_tiny.onnx'), images, { emulated: false }));
    const err: Record<string, number> = {};
    for (const weights of ['auto', 'int8'] as const) {
      const { model } = await quantizeDynamic(vit, { target: 'x86-avx2', weights });
      const path = join(dir, `vit_dynamic_${weights}.onnx`);
      saveModel(model, path);
      const emulated = logits(runOrt(path, images, { emulated: true }));
      err[weights] = rel(emulated, ref);
      if (weights === 'auto') {
        expect(findSaturationRisk(model)).toEqual([]);
        // The integer part is exact: only float rounding differs between the AVX2 and this CPU's kernels.
        expect(rel(emulated, logits(runOrt(path, images, { emulated: false })))).toBeLessThan(1e-3);
      } else {
        expect(findSaturationRisk(model).length).toBeGreaterThan(0);
      }
    }
    // The threshold the VNNI machine holds dynamic ViT logits to.
    expect(err.auto!).toBeLessThan(0.02);
    expect(err.int8!).toBeGreaterThan(3 * err.auto!);
  });

  it('static: the default store (int8 within the pair budget, uint8, depthwise int8) and each forced store are exact there; plain int8 is not', async () => {
    const m = loadModel(join(TRAINED, 'mobilenet_dw.onnx'));
    const calibration = join(FIXTURES, 'data', 'fmnist_calib.npz');
    // 'auto' stores these weights within the pair budget (checked below); uint8 is forced here.
    for (const weights of ['auto', 'uint8', 'int8'] as const) {
      const { model, plan } = await quantizeStatic(m, { target: 'x86-avx2', weights, calibration, placement: 'full', calibSize: 64, engine });
      if (weights === 'auto') {
        // Depthwise convolutions widen their operands and keep int8; the others are weighed by error.
        expect(plan.weights.filter((w) => w.encoding === 'int8').length).toBe(5);
        expect(plan.weights.filter((w) => w.encoding === 'int8-safe').length).toBeGreaterThan(0);
        expect(plan.weights.every((w) => ['int8', 'int8-safe', 'uint8'].includes(w.encoding))).toBe(true);
        expect(plan.notes.join('\n')).toMatch(/weights for the target \(no exact u8 x s8 sums\): \d+ of 7 within the int16 pair budget \(U8S8 kernels\), \d+ as uint8/);
      }
      const path = join(dir, `mobilenet_static_${weights}.onnx`);
      saveModel(model, path);
      const d = rel(logits(runOrt(path, images, { emulated: true })), logits(runOrt(path, images, { emulated: false })));
      if (weights === 'int8') expect(d).toBeGreaterThan(0.02);
      else expect(d).toBe(0);
    }
  });
});
