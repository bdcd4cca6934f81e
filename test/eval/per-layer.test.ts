/**
 * Per-layer analysis: Q/DQ matching by structure, the float twin, and the ranking on fixtures where
 * one layer is deliberately given a bad range (it must come first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyzeLayers } from '../../src/eval/per-layer.js';
import { quantize } from '../../src/quantize/quantize.js';
import { rankLayers } from '../../src/eval/layer-report.js';
import { findQdq } from '../../src/eval/qdq-structure.js';
import { withQuantizedLayers } from '../../src/eval/layer-variants.js';
import { matchReference } from '../../src/eval/float-counterparts.js';
import { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel } from '../../src/onnx/io.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/model.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { OutputComparator } from '../../src/eval/compare.js';
import { makeQdqPair, type QdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { soleReaderQuantizers, withBadRange } from '../../fixtures/qdq/bad-range.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const engine = new Engine();
const calib = () => new NpzDataset(join(FIXTURES, 'data', 'fmnist_calib.npz'));
const test = () => new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz'));
afterAll(() => engine.close());

/** SQNR (dB) of a float twin's logits against the float model's, on 16 test images. */
async function twinSqnr(twin: Model, float: Model): Promise<number> {
  const feeds = { input: { type: 'float32' as const, dims: [16, 1, 28, 28], data: (test().array('input').data as Float32Array).subarray(0, 16 * 784) } };
  const [a, b] = [await engine.createSession(twin), await engine.createSession(float)];
  const c = new OutputComparator('logits');
  c.add((await b.run(feeds)).logits!, (await a.run(feeds)).logits!);
  await a.release(); await b.release();
  return c.result().sqnrDb;
}

describe('Q/DQ structure', () => {
  it('matches each DQ to the tensor its Q consumed, whatever the names say', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['n', 4]);
    const y = b.input('y', DataType.FLOAT, ['n', 4]);
    const s = b.floats('s', [], [0.1]);
    const z = b.initializer('z', Tensor.fromTyped(DataType.UINT8, [], Uint8Array.of(128)));
    // Misleading names: x's quantizer is called after y and the other way round.
    const qx = b.op('QuantizeLinear', [x, s, z], {}, { name: 'y_QuantizeLinear', outputNames: ['y_quantized'] });
    const dqx = b.op('DequantizeLinear', [qx, s, z], {}, { name: 'y_DequantizeLinear', outputNames: ['y_DequantizeLinear_Output'] });
    const qy = b.op('QuantizeLinear', [y, s, z], {}, { name: 'x_QuantizeLinear', outputNames: ['x_quantized'] });
    const dqy = b.op('DequantizeLinear', [qy, s, z], {}, { name: 'x_DequantizeLinear', outputNames: ['x_DequantizeLinear_Output'] });
    const w = b.initializer('w_quantized', Tensor.fromTyped(DataType.INT8, [4, 3], Int8Array.from({ length: 12 }, (_, i) => i - 6)));
    const ws = b.floats('w_scale', [3], [0.5, 0.25, 0.125]);
    const wz = b.initializer('w_zp', Tensor.fromTyped(DataType.INT8, [3], new Int8Array(3)));
    const dqw = b.op('DequantizeLinear', [w, ws, wz], { axis: 1 });
    const sum = b.op('Add', [dqx, dqy], {}, { name: 'add' });
    b.output(b.op('MatMul', [sum, dqw], {}, { name: 'mm', outputNames: ['out'] }));
    const st = findQdq(b.build());
    expect(st.skipped).toEqual([]);
    const add = st.layers.find((l) => l.node.name === 'add')!;
    expect(add.inputs.map((i) => [i.index, i.quantizer.kind, i.quantizer.float!.name])).toEqual([[0, 'activation', 'x'], [1, 'activation', 'y']]);
    const mm = st.layers.find((l) => l.node.name === 'mm')!;
    expect(mm.inputs).toHaveLength(1);
    const wq = mm.inputs[0]!.quantizer;
    expect([mm.inputs[0]!.index, wq.kind, wq.params.axis, Array.from(wq.params.scale)]).toEqual([1, 'weight', 1, [0.5, 0.25, 0.125]]);
    expect(wq.integer!.dims).toEqual([4, 3]);
    expect(add.inputs[0]!.quantizer.params).toMatchObject({ type: 'uint8', qmin: 0, qmax: 255 });
  });
});

describe('per-layer analysis of a trained CNN', () => {
  let clean: QdqPair;
  let bad: QdqPair;
  let tensor: string;
  let culprit: string;
  beforeAll(async () => {
    clean = await makeQdqPair(engine, loadModel(join(TRAINED, 'resnet_bn.onnx')), calib());
    const c = soleReaderQuantizers(clean.qdq)[4]!;
    culprit = c.layer;
    tensor = c.quantizer.float!.name;
    bad = { ...clean, qdq: withBadRange(clean.qdq, culprit, 0.25) };
  });

  it('builds a float twin that computes exactly what the float model does', async () => {
    const st = findQdq(clean.qdq);
    const fw = matchReference(st, clean.float);
    expect(fw.weights.size).toBe(st.quantizers.filter((q) => q.kind === 'weight').length);
    expect(fw.folds.size).toBe(0); // the hand-made QDQ keeps its Relus
    const twin = withQuantizedLayers(clean.qdq, st, () => false, fw);
    expect(twin.graph.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(0);
    expect(await twinSqnr(twin, clean.float)).toBeGreaterThan(100);
  });

  it('puts the layer with a deliberately bad range first, whichever ranking is used', async () => {
    const a = await analyzeLayers(bad.qdq, test(), { engine, reference: bad.float, sensitivity: 'both' });
    expect(a.samples).toBe(32);
    expect(a.weightsExact).toEqual({ matched: 17, total: 17 });
    expect(a.ranking[0]).toBe(culprit);
    expect(rankLayers(a.layers, 'recovery')[0]!.node).toBe(culprit);
    expect(rankLayers(a.layers, 'quantization')[0]!.node).toBe(culprit);
    const top = a.layers[0]!;
    const q = top.quantizers.find((x) => x.kind === 'activation')!;
    expect(q.tensor).toBe(tensor);
    expect(q.clippedFraction).toBeGreaterThan(0.01);
    expect(q.observed.max).toBeGreaterThan(q.representable.max * 2);
    // Keeping the culprit in float recovers most of the damage.
    expect(top.allBut!.recoveryDb).toBeGreaterThan(5);
    // The clean model has no such outlier: its worst layer is far better than the culprit.
    const ok = await analyzeLayers(clean.qdq, test(), { engine, reference: clean.float, sensitivity: 'only' });
    expect(ok.layers[0]!.only!.sqnrDb).toBeGreaterThan(top.only!.sqnrDb + 10);
  });

  it('limits the one-at-a-time runs to the noisiest layers on request', async () => {
    const a = await analyzeLayers(bad.qdq, test(), { engine, reference: bad.float, sensitivityLayers: 3, samples: 16 });
    expect(a.layers.filter((l) => l.only)).toHaveLength(3);
    expect(a.ranking[0]).toBe(culprit);
    expect(a.layers.slice(0, 3).every((l) => l.only)).toBe(true);
    expect(a.notes.join(' ')).toMatch(/sensitivity ran for the 3 layers with the noisiest quantizers of 23/);
  });

  it('estimates the weight error when the reference has BatchNorm still unfolded', async () => {
    const a = await analyzeLayers(clean.qdq, test(), { engine, reference: join(TRAINED, 'resnet_bn.onnx'), sensitivity: 'none', samples: 8 });
    expect(a.rankBy).toBe('quantization');
    expect(a.weightsExact).toEqual({ matched: 1, total: 17 }); // only the Gemm has no BatchNorm
    expect(a.notes.join(' ')).toMatch(/16 of 17 weights have no float original/);
    const conv = a.layers.find((l) => l.op === 'Conv')!;
    const w = conv.quantizers.find((q) => q.kind === 'weight')!;
    expect(w.exact).toBe(false);
    expect(w.sqnrDb).toBeGreaterThan(30);
  });
});

describe('quantizers that fold a Relu into their range (as slimnet\'s and ORT\'s quantizers do)', () => {
  it('gives the float twin its Relus back, from the reference or, without one, from ranges starting at 0', async () => {
    const source = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const p = await makeQdqPair(engine, source, calib(), { foldRelus: true });
    expect(p.qdq.graph.nodes.filter((n) => n.opType === 'Relu').length).toBeLessThan(2);
    const st = findQdq(p.qdq);
    const cp = matchReference(st, p.float);
    expect(cp.folds.size).toBe(12);
    const twin = withQuantizedLayers(p.qdq, st, () => false, cp);
    expect(await twinSqnr(twin, p.float)).toBeGreaterThan(100);
    for (const reference of [p.float, undefined]) {
      const r = await analyzeLayers(p.qdq, test(), { engine, reference, sensitivity: 'none', samples: 16 });
      expect(r.model.agreement).toBe(1);
      expect(r.model.sqnrDb).toBeGreaterThan(30);
      const folded = r.layers.flatMap((l) => l.quantizers).filter((q) => q.folded === 'Relu');
      expect(folded.length).toBeGreaterThan(10);
      // Measured against Relu(x), a folded quantizer clips (almost) nothing.
      for (const q of folded) expect(q.clippedFraction).toBeLessThan(0.01);
      expect(r.notes.join(' ')).toMatch(reference ? /12 quantizers stand for a Relu\/Clip folded into quantizer ranges \(found in the reference\)/ : /assumed from ranges starting at 0/);
    }
  });

  it('gives the float twin its Clips (ReLU6) back from the reference', async () => {
    const p = await makeQdqPair(engine, loadModel(join(TRAINED, 'mobilenet_dw.onnx')), calib(), { foldRelus: true });
    const kept = p.qdq.graph.nodes.filter((n) => n.opType === 'Clip').length;
    expect(kept).toBeLessThan(2);
    const st = findQdq(p.qdq);
    const cp = matchReference(st, p.float);
    const clips = [...cp.folds.values()].filter((f) => f.op === 'Clip');
    expect(clips.length).toBe(11 - kept);
    expect(clips.every((f) => f.min === 0 && f.max === 6)).toBe(true);
    const twin = withQuantizedLayers(p.qdq, st, () => false, cp);
    expect(await twinSqnr(twin, p.float)).toBeGreaterThan(100);
  });
});

describe('per-layer analysis of slimnet\'s static int8 output', () => {
  it('finds the float counterparts of its quantizers and blames an injected bad range first', async () => {
    const source = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const q = await quantize(source, { engine, calibration: join(FIXTURES, 'data', 'fmnist_calib.npz'), calibSize: 100, placement: 'full', speedCheck: false });
    const clean = await analyzeLayers(q.model, test(), { engine, reference: source, sensitivity: 'none', samples: 16 });
    // The quantizer folds Relus into Q ranges; the twin puts them back, so it tracks the candidate.
    expect(clean.notes.join(' ')).toMatch(/Relu\/Clip folded into quantizer ranges \(found in the reference\)/);
    expect(clean.model.agreement).toBe(1);
    expect(clean.model.sqnrDb).toBeGreaterThan(30);
    const culprit = soleReaderQuantizers(q.model)[4]!.layer;
    const a = await analyzeLayers(withBadRange(q.model, culprit, 0.25), test(), { engine, reference: source, sensitivity: 'both' });
    expect(a.ranking[0]).toBe(culprit);
    expect(rankLayers(a.layers, 'recovery')[0]!.node).toBe(culprit);
    expect(rankLayers(a.layers, 'quantization')[0]!.node).toBe(culprit);
  });
});

describe('per-layer analysis of a transformer', () => {
  it('finds a bad range on an attention MatMul', async () => {
    const base = await makeQdqPair(engine, loadModel(join(TRAINED, 'vit_tiny.onnx')), calib());
    const culprit = soleReaderQuantizers(base.qdq).find((c) => /attn\/MatMul/.test(c.layer))!.layer;
    const a = await analyzeLayers(withBadRange(base.qdq, culprit, 0.1), test(), { engine, reference: base.float, samples: 16 });
    expect(a.ranking[0]).toBe(culprit);
  });
});

describe('models per-layer analysis cannot take apart', () => {
  it('says so for QOperator models and for models without Q/DQ', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.UINT8, [1, 4]);
    const s = b.floats('s', [], [0.1]);
    const z = b.initializer('z', Tensor.fromTyped(DataType.UINT8, [], Uint8Array.of(0)));
    const w = b.initializer('w', Tensor.fromTyped(DataType.UINT8, [4, 2], new Uint8Array(8)));
    const y = b.op('QLinearMatMul', [x, s, z, w, s, z, s, z]);
    b.output(b.op('DequantizeLinear', [y, s, z]));
    await expect(analyzeLayers(b.build(), test(), { engine })).rejects.toThrow(/per-layer analysis needs a QDQ model; this one uses QOperator ops \(QLinearMatMul\)/);
    await expect(analyzeLayers(join(TRAINED, 'resnet_bn.onnx'), test(), { engine })).rejects.toThrow(/resnet_bn.onnx: no DequantizeLinear feeds any node/);
  });
});
