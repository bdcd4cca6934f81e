/**
 * Float16-stored models (fixtures/float16/build.ts, from the trained ResNet): weights in float16
 * behind Casts, residual Adds computed in float16, float16 I/O. Static and dynamic quantization see
 * through the Casts, write a file smaller than the float16 one, and keep top-1 within 0.3 points
 * of the float16 model on the Fashion-MNIST test set in ONNX Runtime; pruning sees through them too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantize } from '../../src/quantize/quantize.js';
import { prune } from '../../src/prune/prune.js';
import { DataType } from '../../src/ir/data-type.js';
import type { Model } from '../../src/ir/model.js';
import { FIXTURES } from '../helpers.js';
import { runClassifier } from './accuracy.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST = join(FIXTURES, 'data', 'fmnist_test.npz');
const fixture = (name: string) => join(FIXTURES, 'models', 'float16', `${name}.onnx`);
const ioTypes = (m: Model) => [...m.graph.inputs, ...m.graph.outputs].map((v) => v.elemType);

/** top-1 of the float16 model and of `q` on the test set (2000 images: 0.3 points = 6 images). */
async function top1Pair(reference: string, q: Model): Promise<[number, number]> {
  const [a, b] = [await runClassifier(engine, reference, TEST), await runClassifier(engine, q, TEST)];
  return [a.top1, b.top1];
}

describe('float16-stored models', () => {
  it('static: every Conv and the Gemm are quantized through their Casts; smaller file, same top-1', async () => {
    const path = fixture('resnet_bn_f16w');
    const r = await quantize(loadModel(path), { calibration: CALIB, placement: 'full', engine });
    expect(r.summary.notes).toContain('folded 82 constant nodes over initializers into weights before planning (82 x Cast float16->float32)');
    const quantized = r.plan.nodes.filter((n) => n.action === 'quantize');
    expect(quantized.filter((n) => n.op === 'Conv')).toHaveLength(16);
    expect(quantized.some((n) => n.op === 'Gemm')).toBe(true);
    expect(r.plan.nodes.some((n) => /computed at run time/.test(n.detail))).toBe(false);
    expect(modelToBytes(r.model).length).toBeLessThan(0.6 * statSync(path).size);
    const [ref, got] = await top1Pair(path, r.model);
    expect(Math.abs(ref - got)).toBeLessThanOrEqual(0.003);
  });

  it('static with float16 compute between Casts and a transposed float16 weight; dynamic too', async () => {
    const path = fixture('resnet_bn_f16add');
    const s = await quantize(loadModel(path), { calibration: CALIB, placement: 'full', engine, speedCheck: false });
    expect(s.summary.notes!.find((n) => n.startsWith('folded'))).toMatch(/82 x Cast float16->float32, 1 x Transpose/);
    expect(s.plan.nodes.filter((n) => n.action === 'quantize' && n.op === 'Conv')).toHaveLength(16);
    // ONNX Runtime's basic optimizer (pre-processing) drops the float32->float16->float32 Cast
    // pairs around the float16 Adds; they then run as int8 Adds like the float32 model's.
    const adds = s.model.graph.nodes.filter((n) => n.opType === 'Add');
    expect(adds).toHaveLength(6);
    for (const a of adds) expect(a.inputs.map((v) => v?.producer?.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear']);
    const d = await quantize(loadModel(path), { mode: 'dynamic', engine });
    expect(d.summary.quantized.some((q) => q.op === 'com.microsoft.DynamicQuantizeMatMul' || /Gemm|MatMul/.test(q.op))).toBe(true);
    for (const q of [s.model, d.model]) {
      expect(modelToBytes(q).length).toBeLessThan(statSync(path).size);
      const [ref, got] = await top1Pair(path, q);
      expect(Math.abs(ref - got)).toBeLessThanOrEqual(0.003);
    }
    // Dynamic mode stores the 16 Conv weights in int8 (computed in float: ConvInteger is slower
    // here), about half their float16 bytes; the BatchNorm parameters go back to float16 as given.
    expect(d.summary.notes).toContain('16 convolution weight(s) stored in int8 (computed in float: the file shrinks, the speed stays; --mode static makes convolutions int8)');
    expect(d.summary.notes).toContain('64 weight(s) left in float stored in float16 again, as in the model given');
    expect(d.model.graph.nodes.filter((n) => n.opType === 'Conv').every((c) => c.inputs[1]!.producer?.opType === 'Mul')).toBe(true);
    expect(modelToBytes(d.model).length).toBeLessThan(0.6 * statSync(path).size);
    // Kept out of the op types, the convolutions keep their float16 weights.
    const matmulOnly = await quantize(loadModel(path), { mode: 'dynamic', opTypes: ['MatMul', 'Gemm'], engine });
    expect(matmulOnly.summary.notes).toContain('80 weight(s) left in float stored in float16 again, as in the model given');
  });

  it('fp16 and weight-only see through the Casts and the Transpose too', async () => {
    const path = fixture('resnet_bn_f16add');
    const h = await quantize(loadModel(path), { mode: 'fp16', engine });
    const w = await quantize(loadModel(path), { mode: 'weight-only', engine });
    for (const r of [h, w]) expect(r.summary.notes!.find((n) => n.startsWith('folded'))).toMatch(/82 x Cast float16->float32, 1 x Transpose/);
    expect(w.summary.quantized.some((q) => q.op === 'com.microsoft.MatMulNBits')).toBe(true);
    for (const q of [h.model, w.model]) {
      expect(modelToBytes(q).length).toBeLessThan(statSync(path).size);
      const [ref, got] = await top1Pair(path, q);
      expect(Math.abs(ref - got)).toBeLessThanOrEqual(0.003);
    }
  });

  it('float16 I/O: both modes keep the float16 input and output', async () => {
    const path = fixture('resnet_bn_f16io');
    const m = loadModel(path);
    expect(ioTypes(m)).toEqual([DataType.FLOAT16, DataType.FLOAT16]);
    const s = await quantize(m, { calibration: CALIB, placement: 'full', engine, speedCheck: false });
    expect(s.summary.notes).toContain(`${CALIB}: input 'input' is float32 in the data; rounded to float16 for the model`);
    const d = await quantize(m, { mode: 'dynamic', engine });
    for (const q of [s.model, d.model]) {
      expect(ioTypes(q)).toEqual([DataType.FLOAT16, DataType.FLOAT16]);
      expect(modelToBytes(q).length).toBeLessThan(statSync(path).size);
      const [ref, got] = await top1Pair(path, q);
      expect(Math.abs(ref - got)).toBeLessThanOrEqual(0.003);
    }
  });

  it("a model whose weights are stored in int8 (slimnet's 'storage' output) is folded and quantized, not refused", async () => {
    const float = loadModel(join(FIXTURES, 'models', 'resnet_bn.onnx'));
    const stored = await quantize(float, { calibration: CALIB, calibSize: 64, placement: 'storage', engine, speedCheck: false });
    expect(stored.model.graph.nodes.some((n) => n.opType === 'Conv' && n.input(1)?.producer)).toBe(true);
    const again = await quantize(stored.model, { calibration: CALIB, calibSize: 64, placement: 'full', engine, speedCheck: false });
    expect(again.summary.notes!.find((n) => n.startsWith('folded'))).toMatch(/Cast int8->float32.*rounded a second time/);
    expect(again.plan.nodes.filter((n) => n.action === 'quantize' && n.op === 'Conv')).toHaveLength(16);
    const [ref, got] = [await runClassifier(engine, float, TEST), await runClassifier(engine, again.model, TEST)];
    expect(Math.abs(ref.top1 - got.top1)).toBeLessThanOrEqual(0.003);
  });

  it('pruning sees through the Casts too and keeps the weights stored in float16', async () => {
    const path = fixture('resnet_bn_f16w');
    const p = await prune(loadModel(path), { sparsity: 0.3, engine });
    expect(p.summary.notes).toContain('folded 82 constant nodes over initializers into weights before pruning (82 x Cast float16->float32)');
    expect(p.summary.layers).toHaveLength(15);
    expect(p.summary.achieved.prunedLayers).toBeCloseTo(0.3, 2);
    const initTypes = new Set([...p.model.graph.initializers.values()].filter((v) => v.constValue!.size > 1).map((v) => v.constValue!.dataType));
    expect(initTypes.has(DataType.FLOAT)).toBe(false);
    expect(modelToBytes(p.model).length).toBeLessThanOrEqual(statSync(path).size);
    const [ref, got] = await top1Pair(path, p.model);
    expect(ref - got).toBeLessThanOrEqual(0.01);
  });
});
