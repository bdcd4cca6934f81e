import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { inspectModel } from '../../src/inspect/inspect.js';
import { SYNTHETIC, TRAINED, THIRD_PARTY, FIXTURES } from '../helpers.js';

describe('inspect numbers', () => {
  it('counts the synthetic conv block exactly (hand-computed)', () => {
    const r = inspectModel(loadModel(join(SYNTHETIC, 'conv_block.onnx')));
    // conv 8x3x3x3+8, conv 8x8x3x3+8 twice, BatchNorm 4x8 twice, Gemm 10x8+10
    const convs = 216 + 8 + 2 * (576 + 8);
    expect(r.parameters.floatElements).toBe(convs + 64 + 90);
    expect(r.parameters.batchNormStatistics).toBe(32);
    expect(r.parameters.pytorchEquivalent).toBe(convs + 32 + 90);
    expect(r.tensors.total.bytes).toBe(4 * (convs + 64 + 90));
    expect(r.ops.find((o) => o.op === 'Conv')!.count).toBe(3);
    expect(r.inputs).toEqual([{ name: 'input', type: 'float32', shape: ['batch', 3, 16, 16] }]);
    expect(r.candidates.prune).toEqual([{ op: 'Conv', count: 3 }, { op: 'Gemm', count: 1 }]);
  });

  it('counts weights inside subgraphs and outer weights used by them once', () => {
    const r = inspectModel(loadModel(join(SYNTHETIC, 'if_branch.onnx')));
    // outer conv 2x2x3x3=36, then bias 2, else MatMul 16x16=256, int64 shapes 3+4
    expect(r.parameters.floatElements).toBe(36 + 2 + 256);
    expect(r.parameters.integerElements).toBe(7);
    expect(r.subgraphs.map((s) => s.attribute).sort()).toEqual(['else_branch', 'then_branch']);
    expect(r.nodes).toEqual({ total: 6, mainGraph: 1, inSubgraphs: 5 }); // If; Conv, Relu; Reshape, MatMul, Reshape
  });

  it('counts weights stored in Constant nodes (PaddleOCR) and in nested If bodies (Silero)', () => {
    const cls = inspectModel(loadModel(THIRD_PARTY.ocrCls()));
    expect(cls.tensors.byPlace['constant-node']).toBeGreaterThan(200);
    expect(cls.tensors.byPlace.initializer ?? 0).toBe(0);
    expect(cls.opsets).toEqual([{ domain: 'ai.onnx', version: 9 }]);
    // Its 35 BatchNorms have constant mean/var; the weights are real parameters.
    expect(cls.parameters.batchNormStatistics).toBeGreaterThan(0);
    expect(cls.parameters.pytorchEquivalent).toBeGreaterThan(100_000);
    const vad = inspectModel(loadModel(THIRD_PARTY.sileroV4()));
    expect(vad.nodes.inSubgraphs).toBe(248);
    expect(vad.ops.find((o) => o.op === 'LSTM')!.count).toBe(8);
  });

  const expectedPath = join(FIXTURES, 'trained', 'expected.json');
  const expected = existsSync(expectedPath) ? (JSON.parse(readFileSync(expectedPath, 'utf8')) as { models: Record<string, { params: number; ops: Record<string, number> }> }).models : {};
  it.each(Object.keys(expected))('matches PyTorch parameter count and op histogram of trained %s', (name) => {
    const r = inspectModel(loadModel(join(TRAINED, `${name}.onnx`)));
    expect(r.parameters.pytorchEquivalent).toBe(expected[name]!.params);
    const ops = Object.fromEntries(r.ops.map((o) => [o.op, o.count]));
    expect(ops).toEqual(expected[name]!.ops);
  });
});
