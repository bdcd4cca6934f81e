/**
 * Cancellation through the API (AbortSignal) and the Engine: a call waiting on inference rejects
 * with CancelledError at once, no further inference starts, and the worker is stopped only once
 * ONNX Runtime has returned: stopping it inside the native addon aborts the whole process, which
 * here would be this test process. And Ctrl-C on the CLI, at several points of a quantization.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Engine } from '../../src/runtime/engine.js';
import { loadModel } from '../../src/onnx/io.js';
import { quantize } from '../../src/quantize/quantize.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { CancelledError } from '../../src/errors.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { runInterrupted } from './run.js';

const MODEL = join(TRAINED, 'resnet_bn.onnx');
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

/** A model whose one run takes a while (32 MatMuls of 1024 x 512 by 512 x 512). */
function slowModel() {
  const b = new GraphBuilder({ opset: 17 });
  let h = b.input('x', DataType.FLOAT, [1024, 512]);
  for (let i = 0; i < 32; i++) h = b.op('Tanh', [b.op('MatMul', [h, b.floats('w', [512, 512], new Float32Array(512 * 512).fill(0.001))])]);
  b.output(h);
  return b.model;
}

describe('cancellation', () => {
  it('Engine.cancel rejects waiting calls at once, refuses new ones, and closes after the run in flight', async () => {
    const engine = new Engine({ intraOpThreads: 1 });
    const s = await engine.createSession(slowModel());
    const feeds = { x: { type: 'float32' as const, dims: [1024, 512], data: new Float32Array(1024 * 512).fill(1) } };
    const timing = s.time(feeds, 1000);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    engine.cancel();
    await expect(timing).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(100);
    await expect(s.run(feeds)).rejects.toBeInstanceOf(CancelledError);
    await s.release(); // nothing to wait for: sessions die with the worker
    await engine.close();
  });

  it('an AbortSignal stops quantize and calibrate with CancelledError, and this process lives on', async () => {
    const model = loadModel(MODEL);
    for (const [what, start] of [
      ['quantize', (signal: AbortSignal) => quantize(model, { calibration: CALIB, signal })],
      ['calibrate', (signal: AbortSignal) => calibrate(model, join(FIXTURES, 'data', 'fmnist_test.npz'), { method: 'entropy', signal })],
    ] as const) {
      const controller = new AbortController();
      const running = start(controller.signal);
      setTimeout(() => controller.abort(), 400);
      await expect(running, what).rejects.toBeInstanceOf(CancelledError);
    }
    // The engines those calls made are closed: a new one works as before.
    const engine = new Engine();
    const s = await engine.createSession(model);
    expect(s.info.inputNames).toEqual(['input']);
    await engine.close();
  });

  it('Ctrl-C at several points of slimnet quantize exits 130, with nothing left and the input unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-sigint-'));
    const before = readFileSync(MODEL);
    // While it loads, while it calibrates, while the placement search times candidates, and while
    // the check process loads the model it is about to write (-v prints each stage as it starts).
    const points = [1200, /calibrate \d+\/\d+/, /planning placements/, /in a check process/];
    const runs = await Promise.all(points.map((at, i) =>
      runInterrupted(['quantize', MODEL, '-o', join(dir, `q${i}.onnx`), '--calib', CALIB, '--plan-out', join(dir, `plan${i}.json`), '-v'], at)));
    for (const r of runs) {
      // Under heavy load the signal can land while Node is still starting, before any handler
      // exists: the kernel ends the process by SIGINT (a shell sees 130). Anything else, a
      // SIGABRT from native code above all, fails.
      const endedBeforeStart = r.code === null && r.signal === 'SIGINT' && r.stderr === '';
      if (!endedBeforeStart) expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).not.toMatch(/terminate called|Napi::|Aborted/);
    }
    expect(runs.some((r) => r.code === 130), 'no run reached slimnet\'s own handler').toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(readFileSync(MODEL).equals(before)).toBe(true);
  });
});
