/** AWQ: the folded scales keep the float function (small decoder), and the search pays off where inputs have outlier channels. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { cloneModel } from '../../src/ir/clone.js';
import { Engine } from '../../src/runtime/engine.js';
import { analyzeLinear, type LinearOp } from '../../src/quantize/linear.js';
import { applyAwq } from '../../src/quantize/weight-only/awq.js';
import { DenseProducts } from '../../src/runtime/dense-products.js';
import { collectAwqStats } from '../../src/quantize/weight-only/awq-stats.js';
import { resolveWeightOnlyOptions } from '../../src/quantize/weight-only/options.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { runDecoder, promptDataset, randomTokens } from '../../bench/lib/decoder.js';
import { FIXTURES } from '../helpers.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { ArrayDataset } from '../../src/calibrate/data/array-dataset.js';
import { mulberry32 } from '../../src/random.js';
import { relativeError } from './accuracy.js';
import type { Model } from '../../src/ir/model.js';

const DECODER = join(FIXTURES, 'lm', 'small', 'model.onnx');
const engine = new Engine({ intraOpThreads: 1 });
// AWQ's error products run in ONNX Runtime's float64 GEMM.
const dp = new DenseProducts();
afterAll(async () => { await engine.close(); await dp.release(); });

async function logits(model: Model, prompt: number[]): Promise<Float32Array> {
  const s = await engine.createSession(model);
  try {
    // Four decode steps after the prompt: the KV cache (V / s after the o_proj fold) is read back.
    return (await runDecoder(s, prompt, 4)).logits;
  } finally {
    await s.release();
  }
}

describe('AWQ', () => {
  const float = loadModel(DECODER);
  const calibration = promptDataset(float, 256, 32, 24, 1);
  const prompt = randomTokens(256, 24, 99);

  it('folds 1/s into the RMSNorm weights, the up projection and the value projection: the scaled float model computes the same logits', async () => {
    const scaled = cloneModel(float);
    const ops = scaled.graph.nodes.filter((n) => n.opType === 'MatMul').map(analyzeLinear).filter((op): op is LinearOp => typeof op !== 'string');
    const stats = await collectAwqStats(scaled, ops, resolveWeightOnlyOptions({ algorithm: 'awq', calibration, engine }));
    const { notes } = await applyAwq(ops, stats, () => ({ bits: 4, blockSize: 32, symmetric: false }), dp, { clip: false });
    const folded = [...notes.values()].filter((t) => t.startsWith('scaled'));
    // q/k/v and gate/up into their RMSNorm, down into up_proj, o_proj into v_proj's columns, in both layers.
    expect(folded.length).toBe(14);
    expect([...notes.values()].filter((t) => /folded into .*v_proj/.test(t)).length).toBe(2);
    const moved = [...scaled.graph.initializers.values()].filter((v) => v.constValue !== float.graph.initializers.get(v.name)?.constValue);
    expect(moved.length).toBeGreaterThan(12);
    expect(relativeError(await logits(scaled, prompt), await logits(float, prompt))).toBeLessThan(1e-5);
  });

  it('on a norm-scaled MatMul whose input has outlier channels, AWQ beats RTN on held-out data and names the alpha and the fold', async () => {
    const K = 128, N = 64, rows = 256;
    const next = mulberry32(5);
    const normal = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['batch', K]);
    const gamma = Float32Array.from({ length: K }, (_, k) => (k % 32 === 5 ? 10 : 1) * (1 + 0.1 * normal()));
    const w = Float32Array.from({ length: K * N }, () => 0.05 * normal());
    const h = b.op('Mul', [x, b.initializer('norm.weight', Tensor.float([K], gamma))], {}, { name: 'norm/Mul' });
    b.output(b.op('MatMul', [h, b.initializer('w', Tensor.float([K, N], w))], {}, { name: 'proj', outputNames: ['y'] }));
    const m = b.build();
    const samples = (n: number) => ({ x: { type: 'float32' as const, dims: [n, K], data: Float32Array.from({ length: n * K }, normal) } });
    const calib = new ArrayDataset('calib', samples(rows));
    const held = samples(64);
    const run = async (model: Model) => {
      const s = await engine.createSession(model);
      try { return (await s.run(held)).y!.data as Float32Array; } finally { await s.release(); }
    };
    const ref = await run(m);
    const rtn = await quantizeWeightOnly(m, { accuracyLevel: 0 });
    const awq = await quantizeWeightOnly(m, { accuracyLevel: 0, algorithm: 'awq', calibration: calib, engine });
    expect(awq.summary.quantized.find((d) => d.node === 'proj')?.detail).toMatch(/AWQ scaled \(alpha (0\.\d[05]|1\.00), 1\/s folded into norm\/Mul\), \d+% of blocks clipped/);
    const eRtn = relativeError(await run(rtn.model), ref);
    const eAwq = relativeError(await run(awq.model), ref);
    expect(eAwq).toBeLessThan(0.8 * eRtn);
  });

  for (const [domain, op, scaleAt, withBias] of [['com.microsoft', 'SkipSimplifiedLayerNormalization', 2, false], ['com.microsoft', 'SkipLayerNormalization', 2, true], ['', 'SimplifiedLayerNormalization', 1, false]] as const) {
    it(`folds 1/s into ${op}'s scale${withBias ? ' and bias' : ''} (ONNX Runtime's fused norm, as in Optimum exports): the float function is unchanged`, async () => {
      const K = 64, N = 48;
      const next = mulberry32(7);
      const normal = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
      const b = new GraphBuilder({ opset: 17, opsets: { 'com.microsoft': 1 } });
      const x = b.input('x', DataType.FLOAT, ['batch', 4, K]);
      const skip = op === 'SimplifiedLayerNormalization' ? undefined : b.input('skip', DataType.FLOAT, ['batch', 4, K]);
      const vec = (name: string, f: (k: number) => number) => b.initializer(name, Tensor.float([K], Float32Array.from({ length: K }, (_, k) => f(k))));
      const gamma = vec('norm.weight', (k) => (k % 16 === 3 ? 8 : 1) * (1 + 0.1 * normal()));
      const inputs = op === 'SimplifiedLayerNormalization' ? [x, gamma] : withBias ? [x, skip!, gamma, vec('norm.bias', () => 0.1 * normal())] : [x, skip!, gamma];
      const outs = b.opMulti(op, inputs, { epsilon: 1e-5 }, { name: 'norm', domain, outputNames: op === 'SimplifiedLayerNormalization' ? ['normed'] : ['normed', '', '', 'sum'] });
      const w = (name: string) => b.initializer(name, Tensor.float([K, N], Float32Array.from({ length: K * N }, () => 0.05 * normal())));
      b.output(b.op('MatMul', [outs[0]!, w('w1')], {}, { name: 'up', outputNames: ['y1'] }));
      b.output(b.op('MatMul', [outs[0]!, w('w2')], {}, { name: 'gate', outputNames: ['y2'] }));
      if (op !== 'SimplifiedLayerNormalization') b.output(outs[3]!);
      const float = b.build();
      const data = (n: number, seed: number) => { const r = mulberry32(seed); const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()); return Float32Array.from({ length: n * 4 * K }, g); };
      const feeds = (n: number, seed: number) => ({ x: { type: 'float32' as const, dims: [n, 4, K], data: data(n, seed) }, ...(op === 'SimplifiedLayerNormalization' ? {} : { skip: { type: 'float32' as const, dims: [n, 4, K], data: data(n, seed + 1) } }) });
      const scaled = cloneModel(float);
      const ops = scaled.graph.nodes.filter((n) => n.opType === 'MatMul').map(analyzeLinear).filter((o): o is LinearOp => typeof o !== 'string');
      const stats = await collectAwqStats(scaled, ops, resolveWeightOnlyOptions({ algorithm: 'awq', calibration: new ArrayDataset('calib', feeds(32, 1)), engine }));
      const { notes } = await applyAwq(ops, stats, () => ({ bits: 4, blockSize: 32, symmetric: false }), dp, { clip: false });
      expect([...notes.values()]).toEqual([expect.stringMatching(/^scaled \(alpha .*, 1\/s folded into norm\)$/), expect.stringMatching(/^scaled/)]);
      const run = async (m: Model) => {
        const s = await engine.createSession(m);
        try { return Object.values(await s.run(feeds(4, 9))).map((t) => t.data as Float32Array); } finally { await s.release(); }
      };
      const [a, b2] = [await run(scaled), await run(float)];
      for (const [i, t] of a.entries()) expect(relativeError(t, b2[i]!)).toBeLessThan(1e-5);
    });
  }

  it('folds o_proj\'s 1/s into the value projection through ONNX Runtime\'s GroupQueryAttention (GQA, 4 heads over 2 KV heads): same output, the cache holds V / s', async () => {
    const heads = 4, kvHeads = 2, hd = 16, K = heads * hd, Kv = kvHeads * hd, S = 5;
    const next = mulberry32(11);
    const normal = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
    const b = new GraphBuilder({ opset: 17, opsets: { 'com.microsoft': 1 } });
    const x = b.input('x', DataType.FLOAT, [1, S, K]);
    const seqlens = b.input('seqlens_k', DataType.INT32, [1]);
    const total = b.input('total_sequence_length', DataType.INT32, []);
    const w = (name: string, n: number, scale = 0.1) => b.initializer(name, Tensor.float([K, n], Float32Array.from({ length: K * n }, () => scale * normal())));
    const q = b.op('MatMul', [x, w('wq', K)], {}, { name: 'q_proj' });
    const k = b.op('MatMul', [x, w('wk', Kv)], {}, { name: 'k_proj' });
    const v = b.op('MatMul', [x, w('wv', Kv)], {}, { name: 'v_proj' });
    const [att, , present] = b.opMulti('GroupQueryAttention', [q, k, v, null, null, seqlens, total], { num_heads: heads, kv_num_heads: kvHeads }, { name: 'gqa', domain: 'com.microsoft', outputNames: ['att', 'present_key', 'present_value'] });
    b.output(b.op('MatMul', [att!, w('wo', K)], {}, { name: 'o_proj', outputNames: ['y'] }));
    b.output(present!);
    const float = b.build();
    const feeds = (seed: number) => {
      const r = mulberry32(seed);
      // A few channels of x 10x larger: the o_proj input gets outlier channels through V.
      const data = Float32Array.from({ length: S * K }, (_, i) => (i % K === 7 ? 10 : 1) * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
      return { x: { type: 'float32' as const, dims: [1, S, K], data }, seqlens_k: { type: 'int32' as const, dims: [1], data: Int32Array.from([S - 1]) }, total_sequence_length: { type: 'int32' as const, dims: [], data: Int32Array.from([S]) } };
    };
    const scaled = cloneModel(float);
    const ops = scaled.graph.nodes.filter((n) => n.opType === 'MatMul').map(analyzeLinear).filter((o): o is LinearOp => typeof o !== 'string');
    const calibration = new ArrayDataset('calib', { x: { type: 'float32', dims: [8, S, K], data: Float32Array.from({ length: 8 * S * K }, (_, i) => (i % K === 7 ? 10 : 1) * normal()) }, seqlens_k: { type: 'int32', dims: [8], data: new Int32Array(8).fill(S - 1) }, total_sequence_length: { type: 'int32', dims: [8], data: new Int32Array(8).fill(S) } });
    const stats = await collectAwqStats(scaled, ops, resolveWeightOnlyOptions({ algorithm: 'awq', calibration, engine }));
    const { notes } = await applyAwq(ops, stats, () => ({ bits: 4, blockSize: 16, symmetric: false }), dp, { clip: false });
    expect(notes.get(scaled.graph.nodes.find((n) => n.name === 'o_proj')!)).toMatch(/^scaled \(alpha .*, 1\/s folded into v_proj\)$/);
    const run = async (m: Model) => {
      const s = await engine.createSession(m);
      try { return Object.values(await s.run(feeds(3))).map((t) => t.data as Float32Array); } finally { await s.release(); }
    };
    const [a, c] = [await run(scaled), await run(float)];
    expect(relativeError(a[0]!, c[0]!)).toBeLessThan(1e-5);
  });
});
