/** `slimnet quantize` as a user runs it: real process, real files, exit codes and messages. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';

const MODEL = join(TRAINED, 'resnet_bn.onnx');
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

describe('slimnet quantize: bad input', () => {
  it('gives one clear line, exit code 2, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-q-'));
    const out = join(dir, 'out.onnx');
    for (const [args, pattern] of [
      [[MODEL, '-o', out], /needs calibration data: --calib DATA/],
      [[MODEL, '-o', out, '--calib', CALIB, '--mode', 'dynamic'], /--mode dynamic is not available in this build yet/],
      [[MODEL, '-o', out, '--calib', CALIB, '--mode', 'int3'], /--mode must be one of static, dynamic, weight-only, fp16/],
      [[MODEL, '-o', out, '--calib', CALIB, '--activations', 'int4'], /--activations must be one of uint8, int8, uint16, int16/],
      [[MODEL, '-o', out, '--calib', CALIB, '--calib-size', '1.5'], /--calib-size must be an integer/],
      [[MODEL, '-o', out, '--calib', CALIB, '--format', 'qoperator', '--activations', 'uint16'], /--format qoperator has no 16-bit ops/],
      [[MODEL, '-o', out, '--calib', CALIB, '--exclude', '/(/'], /--exclude \/\(\/: not a valid regular expression/],
    ] as const) {
      const r = slimnet(['quantize', ...args]);
      expect(r.stderr).toMatch(pattern);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(slimnet(['quantize', MODEL]).stderr).toMatch(/required option '-o, --output <file>'/);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
