/** Weight-only quantization: exact packing checked against ONNX Runtime, accuracy on the trained ViT. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { GraphBuilder, subgraph } from '../../src/ir/builder.js';
import { AttrType } from '../../src/ir/attribute.js';
import { storedTensorBytes } from '../../src/onnx/tensors.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { OptionError } from '../../src/errors.js';
import { quantizeWeightOnly, effectiveBlockSize } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { dequantizeBlocks, quantizeRtn } from '../../src/quantize/weight-only/block-quant.js';
import { transpose2d } from '../../src/quantize/channel-quant.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { relativeError, runClassifier } from './accuracy.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');
const CALIB_SET = join(FIXTURES, 'data', 'fmnist_calib.npz');
const FP32_A = { 'session.qdq_matmulnbits_accuracy_level': '0' };

const ops = (m: Model) => m.graph.nodes.map((n) => n.opType);

function linearModel(opset: number, K: number, N: number, w: Float32Array, op: 'MatMul' | 'GemmT' = 'MatMul', bias?: Float32Array): Model {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', DataType.FLOAT, ['batch', K]);
  if (op === 'MatMul') {
    const y = b.op('MatMul', [x, b.initializer('w', Tensor.float([K, N], w))]);
    b.output(bias ? b.op('Add', [y, b.initializer('b', Tensor.float([N], bias))], {}, { outputNames: ['y'] }) : y);
  } else {
    const wt = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) wt[n * K + k] = w[k * N + n]!;
    b.output(b.op('Gemm', [x, b.initializer('w', Tensor.float([N, K], wt)), ...(bias ? [b.initializer('b', Tensor.float([N], bias))] : [])], { transB: 1 }, { outputNames: ['y'] }));
  }
  return b.build();
}

async function run(m: Model, feeds: Feeds, config?: Record<string, string>): Promise<Float32Array> {
  const s = await engine.createSession(m, config ? { config } : {});
  const out = await s.run(feeds);
  await s.release();
  return Object.values(out)[0]!.data as Float32Array;
}

describe('weight-only packing', () => {
  const rng = new Rng(21);
  const cases = [
    { bits: 4, symmetric: false, K: 80, N: 12, blockSize: 32 },
    { bits: 4, symmetric: true, K: 64, N: 9, blockSize: 16 },
    { bits: 8, symmetric: false, K: 48, N: 7, blockSize: 32 },
    { bits: 8, symmetric: true, K: 24, N: 5, blockSize: 64 },
    { bits: 4, symmetric: false, K: 8, N: 4, blockSize: 32 },
  ] as const;
  for (const c of cases) {
    it(`MatMulNBits int${c.bits} ${c.symmetric ? 'symmetric' : 'asymmetric'} K=${c.K} block ${c.blockSize} computes exactly with the dequantized weights`, async () => {
      const w = rng.normals(c.K * c.N, 0.2);
      const bias = rng.normals(c.N, 0.1);
      const m = linearModel(17, c.K, c.N, w, 'MatMul', bias);
      const { model, summary } = await quantizeWeightOnly(m, { weights: c.bits === 4 ? 'int4' : 'int8', symmetric: c.symmetric, blockSize: c.blockSize, accuracyLevel: 0 });
      expect(ops(model)).toEqual(['MatMulNBits']);
      expect(summary.quantized[0]!.detail).toMatch(/bias Add folded in/);
      const bs = effectiveBlockSize(c.K, c.blockSize);
      const ref = linearModel(17, c.K, c.N, dequantizeBlocks(quantizeRtn(w, c.K, c.N, { bits: c.bits, blockSize: bs, symmetric: c.symmetric })), 'MatMul', bias);
      const feeds: Feeds = { x: { type: 'float32', dims: [3, c.K], data: rng.normals(3 * c.K) } };
      expect(relativeError(await run(model, feeds), await run(ref, feeds))).toBeLessThan(1e-5);
      // And the quantization error itself is what 4/8 bits allow.
      expect(relativeError(await run(model, feeds), await run(m, feeds))).toBeLessThan(c.bits === 4 ? 0.15 : 0.01);
    });
  }

  it('blocked DequantizeLinear (opset 21) gives the same numbers and ONNX Runtime fuses it into MatMulNBits', async () => {
    const K = 96, N = 10;
    const w = rng.normals(K * N, 0.2);
    const bias = rng.normals(N, 0.1);
    const feeds: Feeds = { x: { type: 'float32', dims: [2, K], data: rng.normals(2 * K) } };
    for (const op of ['MatMul', 'GemmT'] as const) {
      const m = linearModel(21, K, N, w, op, bias);
      const nbits = (await quantizeWeightOnly(m, { accuracyLevel: 0 })).model;
      const qdq = await quantizeWeightOnly(m, { format: 'qdq' });
      expect(ops(qdq.model)).toEqual(['DequantizeLinear', 'MatMul', 'Add']);
      const dq = qdq.model.graph.nodes[0]!;
      expect(dq.input(0)!.constant!.dataType).toBe(DataType.UINT4);
      expect(dq.getInt('block_size')).toBe(32);
      expect(relativeError(await run(qdq.model, feeds, FP32_A), await run(nbits, feeds))).toBeLessThan(1e-5);
      const dir = mkdtempSync(join(tmpdir(), 'slimnet-wo-'));
      try {
        const s = await engine.createSession(qdq.model, { optimizedModelPath: join(dir, 'o.onnx') });
        await s.release();
        expect(loadModel(join(dir, 'o.onnx')).graph.nodes.map((n) => n.opType)).toContain('MatMulNBits');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  /** A [10, 40] embedding table read by a Gather of [2, 3] ids, and what the tests gather: rows 3, 0, 9, 3, 5, 1. */
  const rows = 10, width = 40;
  const idx = [3, 0, 9, 3, 5, 1];
  const idFeeds: Feeds = { ids: { type: 'int64', dims: [2, 3], data: BigInt64Array.from(idx.map(BigInt)) } };
  const tableModel = (opset: number) => {
    const table = rng.normals(rows * width, 0.3);
    const b = new GraphBuilder({ opset });
    const ids = b.input('ids', DataType.INT64, [2, 3]);
    b.output(b.op('Gather', [b.initializer('table', Tensor.float([rows, width], table)), ids], { axis: 0 }, { outputNames: ['emb'] }));
    return { m: b.build(), table };
  };
  /** The rows a blocked RTN of the table gives back for `idx`. */
  const gatheredRtn = (table: Float32Array, spec: { bits: 4 | 8; blockSize: number; symmetric: boolean }) => {
    const deq = transpose2d(dequantizeBlocks(quantizeRtn(transpose2d(table, rows, width), width, rows, spec)), width, rows);
    return Float32Array.from(idx.flatMap((r) => Array.from(deq.subarray(r * width, (r + 1) * width))));
  };

  for (const c of [{ bits: 4, symmetric: false }, { bits: 4, symmetric: true }, { bits: 8, symmetric: false }, { bits: 8, symmetric: true }] as const) {
    it(`GatherBlockQuantized int${c.bits} ${c.symmetric ? 'symmetric' : 'asymmetric'} returns exactly the dequantized rows`, async () => {
      const { m, table } = tableModel(17);
      const { model, summary } = await quantizeWeightOnly(m, { opTypes: ['Gather'], weights: c.bits === 4 ? 'int4' : 'int8', symmetric: c.symmetric, blockSize: 16 });
      expect(ops(model)).toEqual(['GatherBlockQuantized']);
      expect(summary.quantized[0]!.detail).toMatch(/embedding table \[10x40\], block 16 along each row/);
      const out = await run(model, idFeeds);
      expect(relativeError(out, gatheredRtn(table, { bits: c.bits, blockSize: 16, symmetric: c.symmetric }))).toBeLessThan(1e-6);
      expect(relativeError(out, await run(m, idFeeds))).toBeLessThan(c.bits === 4 ? 0.15 : 0.01);
    });
  }

  for (const symmetric of [false, true]) {
    it(`--format qdq, ${symmetric ? 'symmetric' : 'asymmetric'}: the table's rows are gathered in 8 bits and then dequantized (standard ONNX), exactly`, async () => {
      const { m, table } = tableModel(21);
      // int4 asked: ONNX's Gather has no 4-bit type, so the table is written in 8 bits and the summary says why.
      const { model, summary } = await quantizeWeightOnly(m, { opTypes: ['Gather'], weights: 'int4', symmetric, blockSize: 16, format: 'qdq' });
      expect(ops(model)).toEqual(['Gather', 'Gather', 'Gather', 'DequantizeLinear']);
      expect(model.opsetImports.has('com.microsoft')).toBe(false);
      expect(summary.quantized.find((d) => d.op === 'DequantizeLinear')!.detail).toMatch(/int8 embedding table \[10x40\], block 16 along each row, RTN, rows gathered then dequantized .*8-bit, not 4-bit/);
      const out = await run(model, idFeeds);
      expect(relativeError(out, gatheredRtn(table, { bits: 8, blockSize: 16, symmetric }))).toBeLessThan(1e-6);
      expect(relativeError(out, await run(m, idFeeds))).toBeLessThan(0.01);
    });
  }

  it('a merged decoder\'s If (both branches reading the same outer weights): every MatMul in both branches, each weight stored once, both branches run', async () => {
    const K = 64, N = 96, S = 3;
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, S, K]);
    const useCache = b.input('use_cache_branch', DataType.BOOL, [1]);
    const w1 = b.initializer('mlp.up.weight', Tensor.float([K, N], rng.normals(K * N, 0.1)));
    const w2 = b.initializer('mlp.down.weight', Tensor.float([N, K], rng.normals(N * K, 0.1)));
    const branch = (name: string, act: string) => subgraph(name, (s) => {
      const y = s.op('MatMul', [s.op(act, [s.op('MatMul', [x, w1], {}, { name: `${name}/up` })]), w2], {}, { name: `${name}/down` });
      y.type = { kind: 'tensor', elemType: DataType.FLOAT };
      s.output(y);
    }, b.model.names);
    b.output(b.op('If', [useCache], [
      { name: 'then_branch', type: AttrType.GRAPH, value: branch('with_past', 'Relu') },
      { name: 'else_branch', type: AttrType.GRAPH, value: branch('without_past', 'Sigmoid') },
    ], { outputNames: ['y'] }));
    const m = b.build();
    const { model, summary } = await quantizeWeightOnly(m, { weights: 'int8', blockSize: 32 });
    expect(summary.quantized.filter((d) => d.op === 'com.microsoft.MatMulNBits').map((d) => d.node).sort()).toEqual(['with_past/down', 'with_past/up', 'without_past/down', 'without_past/up']);
    // One copy of each weight in the main graph, read by both branches: 8-bit, about a quarter of the float bytes.
    expect(storedTensorBytes(model)).toBeLessThan(0.35 * storedTensorBytes(m));
    for (const flag of [1, 0]) {
      const feeds: Feeds = { x: { type: 'float32', dims: [1, S, K], data: Float32Array.from(rng.normals(S * K)) }, use_cache_branch: { type: 'bool', dims: [1], data: Uint8Array.from([flag]) } };
      expect(relativeError(await run(model, feeds), await run(m, feeds))).toBeLessThan(0.02);
    }
  });

  it('uses the smallest block that spans a short column and says so', () => {
    expect(effectiveBlockSize(64, 128)).toBe(64);
    expect(effectiveBlockSize(80, 128)).toBe(128);
    expect(effectiveBlockSize(8, 32)).toBe(16);
    expect(effectiveBlockSize(768, 32)).toBe(32);
  });
});

describe('quantizeWeightOnly on the trained ViT', () => {
  it('int4 block 32 RTN stays within 1.5 top-1 points at under a quarter of the size', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const { model, summary } = await quantizeWeightOnly(vit, { weights: 'int4', blockSize: 32, algorithm: 'rtn' });
    expect(model.graph.nodes.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(17);
    expect(summary.skipped.filter((d) => d.op === 'MatMul')).toHaveLength(8);
    expect(summary.sizeAfterBytes).toBeLessThan(0.25 * summary.sizeBeforeBytes);
    const ref = await runClassifier(engine, vit, TEST_SET);
    const q = await runClassifier(engine, model, TEST_SET);
    expect(ref.top1 - q.top1).toBeLessThanOrEqual(0.015);
  });

  it('GPTQ beats RTN on the same settings (int4, block 32, asymmetric)', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const rtn = await quantizeWeightOnly(vit, { weights: 'int4', blockSize: 32 });
    const gptq = await quantizeWeightOnly(vit, { weights: 'int4', blockSize: 32, algorithm: 'gptq', calibration: CALIB_SET, calibSize: 128, engine });
    expect(gptq.summary.quantized.filter((d) => /GPTQ/.test(d.detail))).toHaveLength(17);
    const ref = await runClassifier(engine, vit, TEST_SET);
    const [r, g] = [await runClassifier(engine, rtn.model, TEST_SET), await runClassifier(engine, gptq.model, TEST_SET)];
    // GPTQ minimizes each layer's output error: the logits move much less from fp32 ...
    expect(relativeError(g.logits, ref.logits)).toBeLessThan(0.6 * relativeError(r.logits, ref.logits));
    // ... and top-1 is strictly better than RTN's.
    expect(g.top1).toBeGreaterThan(r.top1);
  });

  it('reports K below the block size, and the QDQ form on opset 17 as an error', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const { summary } = await quantizeWeightOnly(vit, { blockSize: 128 });
    expect(summary.quantized[0]!.detail).toMatch(/block 64 \(K=64 is below the requested 128: one block per column\)/);
    await expect(quantizeWeightOnly(vit, { format: 'qdq' })).rejects.toThrow(/--format qdq needs blocked DequantizeLinear \(ai.onnx opset 21\).*opset 17/);
  });

  it('rejects bad options naming the flag', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    await expect(quantizeWeightOnly(vit, { blockSize: 48 })).rejects.toThrow(/--block-size 48/);
    await expect(quantizeWeightOnly(vit, { weights: 'int2' as never })).rejects.toThrow(OptionError);
    await expect(quantizeWeightOnly(vit, { accuracyLevel: 5 as never })).rejects.toThrow(/--accuracy-level 5/);
    await expect(quantizeWeightOnly(vit, { algorithm: 'gptq' })).rejects.toThrow(/--algorithm gptq needs calibration data/);
  });
});
