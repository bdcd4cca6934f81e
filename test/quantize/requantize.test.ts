/**
 * --requantize: models in ONNX Runtime's dynamic layout (fixtures/requantize/build.ts: the trained
 * ResNet with uint8 ConvInteger weights, the ViT with int8 MatMulInteger weights) are refused as
 * already quantized by default, naming the option; with it, their weights keep their integers,
 * scales and zero points in the static QDQ model, which runs in ONNX Runtime as accurately. A
 * ConvInteger followed by a BatchNorm (quantized without ORT's pre-processing) keeps its integers
 * on per-channel scales once the BatchNorm is folded.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantize } from '../../src/quantize/quantize.js';
import type { Model } from '../../src/ir/model.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { FIXTURES } from '../helpers.js';
import { runClassifier } from './accuracy.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST = join(FIXTURES, 'data', 'fmnist_test.npz');
const fixture = (name: string) => join(FIXTURES, 'models', 'requantize', `${name}.onnx`);
const ints = (t: Tensor) => Array.from(t.data() as ArrayLike<number>);

/**
 * For every ConvInteger / MatMulInteger of `given`, the float op of the same name in `out` reads a
 * DequantizeLinear with the same scale and the same integer grid: q - zp equal everywhere, and the
 * integers themselves equal (int8) or shifted by 128 (uint8 written as int8 where u8 x s8 sums are exact).
 */
function expectSameIntegers(given: Model, out: Model, sameScales = true): number {
  let checked = 0;
  for (const op of given.graph.nodes.filter((n) => n.opType === 'ConvInteger' || n.opType === 'MatMulInteger')) {
    const float = out.graph.nodes.find((n) => n.name === op.name.replace(/_quant$/, ''));
    expect(float?.opType, op.name).toBe(op.opType === 'ConvInteger' ? 'Conv' : 'MatMul');
    const dq = float!.input(1)!.producer!;
    expect(dq.opType).toBe('DequantizeLinear');
    const qIn = ints(op.input(1)!.constant!);
    const zpIn = ints(op.input(3)!.constant!)[0]!;
    const qOut = ints(dq.input(0)!.constant!);
    const zpOut = dq.input(2) ? ints(dq.input(2)!.constant!)[0]! : 0;
    const shift = zpIn - zpOut;
    expect([0, 128]).toContain(shift);
    expect(qOut).toEqual(qIn.map((q) => q - shift));
    // The scale: the Mul by x_scale * w_scale names the weight scale as its second input.
    const scaleIn = op.output(0).consumers()[0]!.output(0).consumers()[0]!;
    const wScale = [...scaleIn.inputs].map((v) => v?.producer).find((p) => p?.opType === 'Mul')!.input(1)!.constant!;
    if (sameScales) expect(Array.from(dq.input(1)!.constant!.toFloat32())).toEqual(Array.from(wScale.toFloat32()));
    checked++;
  }
  return checked;
}

/**
 * Re-quantizes a fixture (placement full), checks that `weights` weights kept their integers and
 * none was rounded again, and that top-1 stays within 1 point of the given model on 2000 images.
 */
async function requantizeAndCheck(name: string, weights: number, sameScales = true): Promise<{ notes: string[]; model: Model }> {
  const given = loadModel(fixture(name));
  const r = await quantize(given, { calibration: CALIB, requantize: true, placement: 'full', engine, speedCheck: false });
  const notes = r.summary.notes ?? [];
  expect(notes.some((n) => /rounded again/.test(n) && !/not rounded again/.test(n))).toBe(false);
  expect(expectSameIntegers(given, r.model, sameScales)).toBe(weights);
  const [a, b] = [await runClassifier(engine, given, TEST), await runClassifier(engine, r.model, TEST)];
  expect(Math.abs(a.top1 - b.top1)).toBeLessThanOrEqual(0.01);
  return { notes, model: r.model };
}

describe('--requantize (ONNX Runtime dynamic models)', () => {
  it('refuses a ConvInteger model as already quantized by default, naming --requantize', async () => {
    await expect(quantize(loadModel(fixture('resnet_bn_dyn')), { calibration: CALIB, engine })).rejects.toThrow(/already quantized .*--requantize/);
  });

  it('ConvInteger ResNet: every Conv quantized statically on the given integers; top-1 as the given model', async () => {
    const { notes, model } = await requantizeAndCheck('resnet_bn_dyn', 16);
    expect(notes).toContain('requantize: 16 x ConvInteger turned back into float ops over their 16 int8 weight(s), whose integers, scales and zero points are kept as given (not rounded again); activations calibrated');
    const ops = new Set(model.graph.nodes.map((n) => n.opType));
    for (const op of ['DynamicQuantizeLinear', 'ConvInteger', 'MatMulInteger']) expect(ops.has(op)).toBe(false);
  });

  it('MatMulInteger ViT: int8 weights kept bit for bit; top-1 as the given model', async () => {
    await requantizeAndCheck('vit_tiny_dyn', 17);
  });

  it('ConvInteger followed by BatchNorm: the folded weights keep their integers on per-channel scales', async () => {
    const { notes } = await requantizeAndCheck('resnet_bn_dyn_bn', 16, false);
    expect(notes).toContain('requantize: 16 weight(s) had a BatchNorm folded into them: they keep their integers, on per-channel scales (scale x gamma / sigma)');
  });

  it('refuses options that would change the given weights', async () => {
    await expect(quantize(loadModel(fixture('vit_tiny_dyn')), { calibration: CALIB, requantize: true, smoothQuant: 'on', engine })).rejects.toThrow(/--smooth-quant on rescales weights/);
  });
});
