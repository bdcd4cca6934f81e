/** The CLI as a user runs it: a real process, real files, exit codes and messages. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTHETIC, THIRD_PARTY, slimnet } from '../helpers.js';

export { slimnet };

describe('slimnet inspect', () => {
  it('prints a readable report', () => {
    const r = slimnet(['inspect', join(SYNTHETIC, 'conv_block.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/IR version 10; opsets ai.onnx 17/);
    expect(r.stdout).toMatch(/input: float32\[batch,3,16,16\]/);
    expect(r.stdout).toMatch(/Parameters: 1,514 \(PyTorch-comparable\)/);
    expect(r.stdout).toMatch(/Pruning candidates: Conv 3, Gemm 1/);
  });

  it('prints JSON with --json', () => {
    const r = slimnet(['inspect', THIRD_PARTY.sileroV4(), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('slimnet.inspect/1');
    expect(j.subgraphs.length).toBe(18);
    expect(j.file.bytes).toBe(1807522);
  });

  it('gives one clear line and a non-zero exit code for bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-cli-'));
    const text = join(dir, 'readme.onnx');
    writeFileSync(text, 'hello, I am not a model'.repeat(20));
    for (const [args, pattern] of [
      [['inspect', join(dir, 'missing.onnx')], /missing.onnx: no such file/],
      [['inspect', text], /readme.onnx: not (a valid )?(an )?ONNX model/],
      [['inspect', dir], /is a directory/],
    ] as const) {
      const r = slimnet([...args]);
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
    const usage = slimnet(['inspect']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'model'/);
  });
});
