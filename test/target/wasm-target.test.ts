/** --target wasm: int8 only where onnxruntime-web's kernels can pay, placements timed in onnxruntime-web. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { FIXTURES, SYNTHETIC, TRAINED } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

describe('target wasm', () => {
  it('static: keeps the ops onnxruntime-web runs slower in int8 in float, and times the rest there', async () => {
    const r = await quantizeStatic(loadModel(join(TRAINED, 'mobilenet_dw.onnx')), { calibration: CALIB, calibSize: 64, target: 'wasm', engine });
    expect(r.target.name).toBe('wasm');
    expect(r.plan.notes).toContain("placements timed in onnxruntime-web's wasm backend on this machine");
    const l = r.speedCheck!.latency!;
    expect(l.candidates.length).toBeGreaterThanOrEqual(1);
    // Never slower than float there: an int8 placement only when measured faster, else float compute.
    expect(l.verdict).toMatch(/float32/);
    // The 1-channel stem and the depthwise convolutions are float whatever placement won (storage says so too).
    const pinned = loadModel(join(TRAINED, 'mobilenet_dw.onnx'));
    const full = await quantizeStatic(pinned, { calibration: CALIB, calibSize: 64, target: 'wasm', placement: 'full', engine });
    const why = (name: string) => full.plan.nodes.find((n) => n.node === name)!;
    expect(why('/blocks/blocks.0/dw/dw.0/Conv')).toMatchObject({ action: 'float', detail: expect.stringMatching(/^target wasm: depthwise int8 convolutions run a scalar loop/) });
    expect(why('/stem/stem.0/Conv').detail).toMatch(/^target wasm: a reduction of 9 \(< 64\)/);
    expect(why('/fc/Gemm').detail).toMatch(/^target wasm: a one-row matrix product/);
    expect(full.plan.nodes.find((n) => n.node === '/blocks/blocks.2/pw/pw.0/Conv')!.action).toBe('quantize');
    expect(full.plan.weights.every((w) => w.encoding === 'int8')).toBe(true);
  }, 300_000); // two placement searches timed in onnxruntime-web: ~20 s idle, minutes on a loaded machine

  it('dynamic: leaves LSTMs in float; weight-only warns that it only saves size there', async () => {
    const lstm = await quantizeDynamic(loadModel(join(SYNTHETIC, 'lstm.onnx')), { target: 'wasm', engine });
    expect(lstm.summary.skipped.find((d) => d.op === 'LSTM')!.detail).toMatch(/^target wasm: DynamicQuantizeLSTM is 0.58x float/);
    const w = await quantizeWeightOnly(loadModel(join(TRAINED, 'vit_tiny.onnx')), { target: 'wasm', engine });
    expect(w.summary.warnings.join()).toMatch(/wasm backend has no int4\/int8 MatMulNBits kernel/);
  });
});
