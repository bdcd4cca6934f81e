/**
 * Issue 14: every model slimnet writes (static, dynamic, weight-only, pruned; fp16 in
 * fp16-load-check.test.ts) is loaded and run at ONNX Runtime's default level 'all' in a check
 * process first. A native crash there is one error (exit 6) naming the model and the level, and
 * nothing is written; the summary says the check ran.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { tensorType } from '../../src/ir/types.js';
import type { Model } from '../../src/ir/model.js';
import { modelToBytes } from '../../src/onnx/io.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { quantize } from '../../src/quantize/quantize.js';
import { prune } from '../../src/prune/prune.js';
import { checkLoadsInChild } from '../../src/runtime/load-check.js';
import { Engine } from '../../src/runtime/engine.js';
import { RuntimeError } from '../../src/errors.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { crashCheckProcesses } from '../check-processes.js';
import { slimnet } from '../helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'slimnet-load-check-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const CHECKED = (what: string) => new RegExp(`^${what} loaded and ran at ONNX Runtime's optimization level 'all' in a check process$`);

/**
 * x [1, 32] -> MatMul -> Relu -> MatMul -> y. With `int4Output`, x also goes through a
 * QuantizeLinear to an int4 graph output: onnxruntime-node 1.30 aborts the process natively when a
 * run returns an int4 tensor (FATAL ERROR in napi_create_arraybuffer), so that model really crashes
 * ONNX Runtime in the check process. slimnet's own sessions refuse to run it (model-source.ts).
 */
function mlp(int4Output: boolean): Model {
  const rng = new Rng(14);
  const b = new GraphBuilder({ opset: 21 });
  const x = b.input('x', DataType.FLOAT, [1, 32]);
  const w = (name: string, k: number, n: number) => b.floats(name, [k, n], Float32Array.from({ length: k * n }, () => rng.normal() * 0.2));
  const h = b.op('Relu', [b.op('MatMul', [x, w('w1', 32, 32)], {}, { name: 'fc1' })], {}, { name: 'relu' });
  b.output(b.op('MatMul', [h, w('w2', 32, 16)], {}, { name: 'fc2', outputNames: ['y'] }), tensorType(DataType.FLOAT, [1, 16]));
  if (int4Output) {
    const q = b.op('QuantizeLinear', [x, b.floats('s', [], [0.5]), b.initializer('zp', Tensor.fromTyped(DataType.INT4, [], Int8Array.of(0)))], {}, { name: 'q4', outputNames: ['q4'] });
    b.output(q, tensorType(DataType.INT4, [1, 32]));
  }
  return b.model;
}

function calibration(): string {
  const rng = new Rng(7);
  const path = join(TMP, 'calib.npz');
  writeFileSync(path, encodeNpz({ x: { type: 'float32', dims: [8, 32], data: Float32Array.from({ length: 8 * 32 }, () => rng.normal()) } }));
  return path;
}

describe('every output loads at level all in a check process', () => {
  it('each mode says so in its summary', async () => {
    const model = mlp(false);
    const stat = await quantize(model, { calibration: calibration(), engine, placement: 'full' });
    expect(stat.summary.notes).toContainEqual(expect.stringMatching(CHECKED('the quantized model')));
    const dyn = await quantize(model, { mode: 'dynamic', engine });
    expect(dyn.summary.notes).toContainEqual(expect.stringMatching(CHECKED('the quantized model')));
    const wo = await quantize(model, { mode: 'weight-only', engine, blockSize: 16 });
    expect(wo.summary.notes).toContainEqual(expect.stringMatching(CHECKED('the weight-only model')));
    // Float16 activations (q4f16) are checked once, as the weight-only model written.
    const q4f16 = await quantize(model, { mode: 'weight-only', engine, blockSize: 16, activations: 'float16' });
    expect(q4f16.summary.notes!.filter((n) => /check process/.test(n))).toEqual([expect.stringMatching(CHECKED('the weight-only model'))]);
    const pruned = await prune(model, { sparsity: 0.5, includeFirstLast: true, engine });
    expect(pruned.summary.notes).toContainEqual(expect.stringMatching(CHECKED('the pruned model')));
  });

  it('weight-only outputs over the size limit are not loaded, and the note says why and what to do', async () => {
    const r = await checkLoadsInChild(mlp(false), 'the weight-only model', { maxBytes: 1024, maxBytesReason: 'memory' });
    expect(r.outcome).toBe('skipped');
    expect(r.note).toMatch(/^the weight-only model was not loaded in a check process: .* over the 0 MiB limit of the check \(memory\); load it once at ONNX Runtime's default optimization level \('all'\) before shipping it$/);
  });

  it('a native crash of ONNX Runtime on the output is one error naming the model and the level, and nothing is written', async () => {
    const input = join(TMP, 'int4-output.onnx');
    writeFileSync(input, modelToBytes(mlp(true)));
    const dir = mkdtempSync(join(TMP, 'out-'));
    const out = join(dir, 'dyn.onnx');
    const r = slimnet(['quantize', input, '--mode', 'dynamic', '-o', out]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/the quantized model: ONNX Runtime crashed \(SIG[A-Z]+\) while running it at graph optimization level 'all' \(its default\) in a check process; nothing was written\. Keep the ops involved as they were with --exclude/);
    // The fatal error's own line, not a native stack frame.
    expect(r.stderr).toMatch(/\(ONNX Runtime: FATAL ERROR: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // Through the API: weight-only and pruning stop the same way.
    await expect(quantize(mlp(true), { mode: 'weight-only', engine, blockSize: 16 })).rejects.toThrow(/^the weight-only model: ONNX Runtime crashed \(SIG[A-Z]+\) while running it at graph optimization level 'all'/);
    await expect(prune(mlp(true), { sparsity: 0.5, includeFirstLast: true, engine })).rejects.toThrow(RuntimeError);
  });

  it.runIf(process.platform === 'linux')('static: a crash of the check process stops quantization before any session of the model in this process', async () => {
    // A real SIGSEGV delivered to the real check process, as a native crash of ONNX Runtime would.
    const stop = crashCheckProcesses();
    try {
      await expect(quantize(mlp(false), { calibration: calibration(), engine, placement: 'full' })).rejects.toThrow(/^the quantized model: ONNX Runtime crashed \(SIGSEGV\) while (loading|running) it at graph optimization level 'all'/);
    } finally {
      stop();
    }
  });
});
