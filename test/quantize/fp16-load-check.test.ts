/**
 * Issue 14: the float16 model written from a ViT on PyTorch's nn.TransformerEncoder (torch.onnx,
 * opset 17, dynamic batch: fixtures/torch-vit/build.sh) must load and run at ONNX Runtime's default
 * optimization level 'all', and a crash of ONNX Runtime in the fp16 check must end as one error
 * naming the model and the level, with nothing written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/ir/model.js';
import { convertToFp16 } from '../../src/quantize/fp16/convert.js';
import { Engine } from '../../src/runtime/engine.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { syntheticFeeds } from '../../src/eval/bench-feeds.js';
import { ROOT, slimnetArgv, slimnetEnv } from '../helpers.js';
import { spawn } from 'node:child_process';
import { crashCheckProcesses } from '../check-processes.js';

const FIXTURE = join(ROOT, 'fixtures', 'models', 'torch_vit_encoder.onnx');
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

async function logits(model: Model): Promise<Float32Array> {
  const s = await engine.createSession(model, { graphOptimizationLevel: 'all' });
  try {
    const out = await s.run(syntheticFeeds(loadModel(FIXTURE), 4));
    return asFloat32(out.logits!);
  } finally {
    await s.release();
  }
}

/** The CLI, without blocking this process (its check process is killed meanwhile). */
function slimnetAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, slimnetArgv(args), { env: slimnetEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('fp16 on the nn.TransformerEncoder ViT export', () => {
  it('converts, loads at level all, and its logits stay close to float32', async () => {
    const r = await convertToFp16(loadModel(FIXTURE), { engine });
    expect(r.summary.notes.join('\n')).toMatch(/loaded and ran at ONNX Runtime's optimization level 'all' in a check process/);
    const ref = await logits(loadModel(FIXTURE));
    const half = await logits(r.model);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) {
      worst = Math.max(worst, Math.abs(half[i]! - ref[i]!));
      scale = Math.max(scale, Math.abs(ref[i]!));
    }
    // docs/quantization-modes.md: at most 1% of the output's largest magnitude.
    expect(worst / scale).toBeLessThan(0.01);
  });

  it.runIf(process.platform === 'linux')('a crash in the check process is one error naming the model and the level, and nothing is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-fp16-crash-'));
    try {
      const out = join(dir, 'vit_fp16.onnx');
      // A real SIGSEGV delivered to the real check process, as a native crash of ONNX Runtime would.
      const stop = crashCheckProcesses();
      const r = await slimnetAsync(['quantize', FIXTURE, '--mode', 'fp16', '-o', out]).finally(stop);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/the float16 model: ONNX Runtime crashed \(SIGSEGV\) while (loading|running) it at graph optimization level 'all'.*nothing was written/);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
