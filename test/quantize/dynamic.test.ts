/** Dynamic quantization on real models, checked through onnxruntime-node. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { floatAttr } from '../../src/ir/attribute.js';
import { OptionError } from '../../src/errors.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { FIXTURES, ROOT, SYNTHETIC, THIRD_PARTY, TRAINED } from '../helpers.js';
import { loadMetricModule } from '../../src/eval/metric-module.js';
import { ocrRecBatch } from '../../fixtures/ocr/lines.js';
import { relativeError, runClassifier } from './accuracy.js';
import { SYNTHETIC_CASES, THIRD_PARTY_CASES } from './feeds.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');

const ops = (m: Model) => [...m.graph.allGraphs()].flatMap((g) => g.nodes.map((n) => n.opType));
const count = (m: Model, op: string) => ops(m).filter((o) => o === op).length;

async function outputError(a: Model, b: Model, feeds: Feeds): Promise<number[]> {
  const [x, y] = [await engine.createSession(a), await engine.createSession(b)];
  const [ra, rb] = [await x.run(feeds), await y.run(feeds)];
  await x.release();
  await y.release();
  return Object.keys(ra).map((k) => relativeError(rb[k]!.data as Float32Array, ra[k]!.data as Float32Array));
}

describe('quantizeDynamic', () => {
  it('keeps the ViT within 0.5 top-1 points and shrinks its weights', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const before = ops(vit).join();
    const { model, summary } = await quantizeDynamic(vit);
    expect(ops(vit).join()).toBe(before); // the input model is untouched
    // 16 encoder MatMuls and the Gemm head; the 8 attention MatMuls (two activations) stay float.
    expect(count(model, 'DynamicQuantizeMatMul')).toBe(17);
    expect(count(model, 'MatMul')).toBe(8);
    expect(summary.skipped.filter((d) => d.op === 'MatMul').every((d) => /both inputs are activations/.test(d.detail))).toBe(true);
    expect(summary.quantized.filter((d) => /bias Add folded in/.test(d.detail))).toHaveLength(16);
    expect(summary.sizeAfterBytes).toBeLessThan(0.35 * summary.sizeBeforeBytes);
    const ref = await runClassifier(engine, vit, TEST_SET);
    const q = await runClassifier(engine, model, TEST_SET);
    expect(ref.top1).toBeCloseTo(0.881, 3);
    expect(ref.top1 - q.top1).toBeLessThanOrEqual(0.005);
  });

  it('emits standard ONNX ops with format onnx, which ONNX Runtime fuses into DynamicQuantizeMatMul', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const { model, summary } = await quantizeDynamic(vit, { format: 'onnx' });
    expect(count(model, 'MatMulInteger')).toBe(17);
    expect(count(model, 'DynamicQuantizeLinear')).toBe(17);
    expect(model.opsetImports.has('com.microsoft')).toBe(false);
    expect(summary.quantized.filter((d) => d.op === 'MatMulInteger')).toHaveLength(17);
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-dyn-'));
    try {
      const path = join(dir, 'optimized.onnx');
      const s = await engine.createSession(model, { optimizedModelPath: path });
      await s.release();
      const optimized = loadModel(path);
      expect(count(optimized, 'DynamicQuantizeMatMul')).toBe(17);
      expect(count(optimized, 'MatMulInteger')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ref = await runClassifier(engine, vit, TEST_SET, { limit: 500 });
    const q = await runClassifier(engine, model, TEST_SET, { limit: 500 });
    expect(relativeError(q.logits, ref.logits)).toBeLessThan(0.02);
  });

  it('folds Gemm transB, alpha and beta into the quantized weight and bias', async () => {
    const rng = new Rng(9);
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['batch', 24]);
    const w = b.initializer('w', Tensor.float([16, 24], rng.normals(16 * 24, 0.3)));
    const c = b.initializer('c', Tensor.float([16], rng.normals(16, 0.5)));
    b.output(b.op('Gemm', [x, w, c], [{ name: 'transB', type: 2, value: 1 }, floatAttr('alpha', 0.5), floatAttr('beta', 2)], { outputNames: ['y'] }));
    const m = b.build();
    const { model } = await quantizeDynamic(m);
    expect(ops(model)).toEqual(['DynamicQuantizeMatMul']);
    const feeds: Feeds = { x: { type: 'float32', dims: [4, 24], data: rng.normals(96) } };
    const [err] = await outputError(m, model, feeds);
    expect(err).toBeLessThan(0.01);
  });

  it('turns com.microsoft.Attention (ORT-fused transformers) into QAttention', async () => {
    const rng = new Rng(12);
    const H = 64, S = 16;
    const b = new GraphBuilder({ opset: 17, opsets: { 'com.microsoft': 1 } });
    const x = b.input('x', DataType.FLOAT, ['batch', S, H]);
    const attn = b.op('Attention', [x, b.initializer('qkv_w', Tensor.float([H, 3 * H], rng.normals(3 * H * H, 0.1))), b.initializer('qkv_b', Tensor.float([3 * H], rng.normals(3 * H, 0.02)))], { num_heads: 4 }, { domain: 'com.microsoft', name: 'attention' });
    b.output(b.op('MatMul', [attn, b.initializer('out_w', Tensor.float([H, H], rng.normals(H * H, 0.1)))], {}, { outputNames: ['y'] }));
    const m = b.build();
    const { model, summary } = await quantizeDynamic(m);
    expect(ops(model)).toEqual(['DynamicQuantizeLinear', 'QAttention', 'DynamicQuantizeMatMul']);
    expect(summary.quantized.find((d) => d.node === 'attention')!.detail).toMatch(/^u?int8 per-column weights.* \(QKV \[64x192\]\)/);
    const feeds: Feeds = { x: { type: 'float32', dims: [2, S, H], data: rng.normals(2 * S * H) } };
    expect(Math.max(...await outputError(m, model, feeds))).toBeLessThan(0.03);
  });

  it('turns LSTMs into DynamicQuantizeLSTM, inside If branches too', async () => {
    const lstm = SYNTHETIC_CASES.find((c) => c.name === 'lstm')!;
    const m = loadModel(join(SYNTHETIC, 'lstm.onnx'));
    const { model } = await quantizeDynamic(m);
    expect(count(model, 'DynamicQuantizeLSTM')).toBe(1);
    expect(Math.max(...await outputError(m, model, lstm.feeds()))).toBeLessThan(0.03);

    const silero = THIRD_PARTY_CASES.find((c) => c.name === 'silero-v4')!;
    const sm = loadModel(THIRD_PARTY.sileroV4());
    const q = await quantizeDynamic(sm);
    expect(count(q.model, 'DynamicQuantizeLSTM')).toBe(8);
    expect(count(q.model, 'LSTM')).toBe(0);
    expect(Math.max(...await outputError(sm, q.model, silero.feeds()))).toBeLessThan(0.02);
  });

  it('quantizes embedding tables when asked, with one scale per row', async () => {
    const tb = SYNTHETIC_CASES.find((c) => c.name === 'transformer_block')!;
    const m = loadModel(tb.path);
    const { model, summary } = await quantizeDynamic(m, { opTypes: ['MatMul', 'Gemm', 'Gather'] });
    const emb = summary.quantized.find((d) => /embedding table \[50x32\]/.test(d.detail));
    expect(emb).toBeDefined();
    expect(count(model, 'DynamicQuantizeMatMul')).toBe(7);
    const table = [...model.graph.initializers.values()].find((v) => v.name.startsWith('embedding'))!;
    expect(table.constValue!.dataType).toBe(DataType.INT8);
    expect(Math.max(...await outputError(m, model, tb.feeds()))).toBeLessThan(0.03);
    // Without 'Gather' the table stays float and says why.
    const plain = await quantizeDynamic(m);
    expect(plain.summary.skipped.find((d) => d.op === 'Gather')?.detail).toMatch(/not in the op types/);
  });

  it('handles weights held in Constant nodes (PaddleOCR, opset 9)', async () => {
    const rec = THIRD_PARTY_CASES.find((c) => c.name === 'ocr-rec')!;
    const m = loadModel(rec.path);
    const { model, summary } = await quantizeDynamic(m, { opTypes: ['MatMul', 'Gemm'] });
    expect(count(model, 'DynamicQuantizeMatMul')).toBeGreaterThanOrEqual(9);
    expect(summary.sizeAfterBytes).toBeLessThan(0.75 * summary.sizeBeforeBytes);
    expect(Math.max(...await outputError(m, model, rec.feeds()))).toBeLessThan(0.03);
    await expect(quantizeDynamic(m, { format: 'onnx' })).rejects.toThrow(/--format onnx needs DynamicQuantizeLinear \(ai.onnx opset 11\).*opset 9.*--format contrib/);
  });

  it('stores the PaddleOCR recognizer\'s convolution weights in int8: a quarter of the file, real text read as well', async () => {
    const m = loadModel(THIRD_PARTY.ocrRec());
    const { model, summary } = await quantizeDynamic(m);
    expect(summary.notes).toContain('38 convolution weight(s) stored in int8 (computed in float: the file shrinks, the speed stays; --mode static makes convolutions int8)');
    expect(summary.sizeAfterBytes).toBeLessThan(0.3 * summary.sizeBeforeBytes);
    // Character accuracy on 32 rendered lines (fixtures/ocr). On synthetic noise images this model's
    // softmax moves by 10-28% for one int8-stored convolution, but the text it reads does not
    // (all 240 lines, measured: float 99.28%, MatMul only 99.22%, with the convolutions 99.28%).
    const metric = await loadMetricModule(join(ROOT, 'bench', 'lib', 'ctc-char-accuracy.mjs'));
    const score = async (x: Model): Promise<number> => {
      const acc = metric.create();
      const s = await engine.createSession(x);
      try {
        const batch = await ocrRecBatch(0, 32, 5);
        const out = Object.values(await s.run({ x: batch.x }))[0]!;
        acc.update({ y: out }, { labels: batch.labels, feeds: {}, count: out.dims[0]!, first: 0 });
      } finally {
        await s.release();
      }
      return acc.result();
    };
    const [fp32, int8] = [await score(m), await score(model)];
    expect(fp32).toBeGreaterThan(0.95);
    expect(int8).toBeGreaterThan(fp32 - 0.005);
  });

  it('rejects bad options naming the flag', async () => {
    const m = loadModel(join(SYNTHETIC, 'lstm.onnx'));
    await expect(quantizeDynamic(m, { format: 'qoperator' as never })).rejects.toThrow(OptionError);
    await expect(quantizeDynamic(m, { opTypes: ['Pad' as never] })).rejects.toThrow(/--ops: 'Pad' cannot be quantized dynamically/);
  });
});
