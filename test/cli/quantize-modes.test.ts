/** `slimnet quantize --mode dynamic|weight-only|fp16` as a user runs it: real process, files, ONNX Runtime. */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { FIXTURES, SYNTHETIC, TRAINED, slimnet } from '../helpers.js';
import { runClassifier } from '../quantize/accuracy.js';

const VIT = join(TRAINED, 'vit_tiny.onnx');
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const ops = (path: string) => loadModel(path).graph.nodes.map((n) => n.opType);

describe('slimnet quantize --mode dynamic | weight-only | fp16', () => {
  it('writes models that run in ONNX Runtime, with the report of each mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-modes-'));
    const dyn = join(dir, 'vit.dynamic.onnx');
    const d = slimnet(['quantize', VIT, '-o', dyn, '--mode', 'dynamic', '--format', 'onnx']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/dynamic: format onnx, target (x86|arm64)[-a-z0-9]*, weights auto per-channel/);
    expect(d.stdout).toMatch(/8 x both inputs are activations/);
    expect(ops(dyn).filter((o) => o === 'MatMulInteger')).toHaveLength(17);

    const w4 = join(dir, 'vit.int4.onnx');
    const w = slimnet(['quantize', VIT, '-o', w4, '--mode', 'weight-only', '--weights', 'int4', '--block-size', '32', '--symmetric', '--algorithm', 'gptq', '--calib', CALIB, '--calib-size', '64', '--accuracy-level', '0', '--json']);
    expect(w.code).toBe(0);
    const report = JSON.parse(w.stdout);
    expect(report.schema).toBe('slimnet.quantize/1');
    expect(report.mode).toBe('weight-only');
    expect(report.settings).toMatchObject({ weights: 'int4', blockSize: 32, algorithm: 'gptq', accuracyLevel: 0, calibSize: 64 });
    expect(report.summary.quantized.filter((q: { detail: string }) => /GPTQ/.test(q.detail))).toHaveLength(17);
    expect(loadModel(w4).graph.nodes.find((n) => n.opType === 'MatMulNBits')!.getInt('accuracy_level')).toBe(0);

    const half = join(dir, 'vit.fp16.onnx');
    const f = slimnet(['quantize', VIT, '-o', half, '--mode', 'fp16', '--block-ops', 'Softmax']);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/fp16: keepIoTypes true, preprocess true, rangeCheck constants only, blockOps Softmax/);
    expect(f.stdout).toMatch(/4 x Softmax kept in float32 by option/);
    expect(f.stdout).toMatch(/warning: no calibration data given/);

    const ref = await runClassifier(engine, VIT, TEST_SET, { limit: 500 });
    for (const path of [dyn, w4, half]) {
      const r = await runClassifier(engine, path, TEST_SET, { limit: 500 });
      expect(Math.abs(r.top1 - ref.top1)).toBeLessThanOrEqual(0.02);
    }
    expect(readdirSync(dir).sort()).toEqual(['vit.dynamic.onnx', 'vit.fp16.onnx', 'vit.int4.onnx']);
  });

  it('refuses flags the mode does not read, bad values, and models it cannot change, writing nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-modes-'));
    const out = join(dir, 'out.onnx');
    for (const [args, code, pattern] of [
      [['--mode', 'weight-only', '--block-size', '48'], 2, /--block-size 48: MatMulNBits needs a power of two >= 16/],
      [['--mode', 'weight-only', '--algorithm', 'gptq'], 2, /--algorithm gptq needs calibration data \(--calib <file.npz>\)/],
      [['--mode', 'weight-only', '--placement', 'full'], 2, /--placement is not used by --mode weight-only \(it applies to --mode static\)/],
      [['--mode', 'static', '--calib', CALIB, '--block-size', '32'], 2, /--block-size is not used by --mode static \(it applies to --mode weight-only\)/],
      [['--mode', 'dynamic', '--format', 'qdq'], 2, /--format 'qdq' is not a dynamic format; use contrib or onnx/],
      [['--mode', 'fp16', '--symmetric'], 2, /--symmetric is not used by --mode fp16/],
    ] as const) {
      const r = slimnet(['quantize', VIT, '-o', out, ...args]);
      expect(r.stderr).toMatch(pattern);
      expect(r.code).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const none = slimnet(['quantize', join(SYNTHETIC, 'convtranspose_resize.onnx'), '-o', out, '--mode', 'dynamic', '--op-types', 'MatMul,Gemm']);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/no node can be quantized in dynamic mode \(.*ConvTranspose is not in the op types to quantize \(MatMul, Gemm\)/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
