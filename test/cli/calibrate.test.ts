/** `slimnet calibrate` as a user runs it: a real process, real files, exit codes and messages. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRanges } from '../../src/calibrate/store.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { loadModel } from '../../src/onnx/io.js';
import { FIXTURES, TRAINED, slimnetArgv, slimnetEnv } from '../helpers.js';
import { spawnSync } from 'node:child_process';

const MODEL = join(TRAINED, 'resnet_bn.onnx');

function slimnet(args: string[]) {
  const r = spawnSync(process.execPath, slimnetArgv(args), { encoding: 'utf8', env: slimnetEnv(), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

describe('slimnet calibrate', () => {
  it('writes ranges.json that quantization can load, and prints a summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-cli-calib-'));
    const out = join(dir, 'ranges.json');
    const r = slimnet(['calibrate', MODEL, '--calib', CALIB, '-o', out, '--method', 'mse', '--calib-size', '64']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Calibrated \d+ tensors on 64 samples: mse, for uint8 asymmetric/);
    expect(r.stdout).toMatch(/\/stem\/stem\.2\/Relu_output_0\s+\[0, [\d.]+\]/);
    expect(r.stdout).toMatch(/Ranges written to .*ranges\.json/);
    const loaded = loadRanges(out, loadModel(MODEL));
    expect(loaded.method).toBe('mse');
    expect(loaded.samples).toBe(64);
    expect(loaded.ranges.get('input')!.min).toBeLessThan(0);
    expect(readdirSync(dir)).toEqual(['ranges.json']); // no temp files left
  });

  it('prints JSON with --json: symmetric int8 percentile ranges', () => {
    const r = slimnet(['calibrate', MODEL, '--calib', CALIB, '--method', 'percentile', '--percentile', '99.9', '--target', 'int8', '--symmetric', '--calib-size', '40', '--tensors', 'all', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schema: 'slimnet.ranges/1', method: 'percentile', percentile: 99.9, samples: 40, target: { type: 'int8', symmetric: true } });
    expect(Object.keys(doc.ranges).length).toBeGreaterThan(35);
    for (const range of Object.values(doc.ranges) as { min: number; max: number }[]) expect(range.min).toBe(-range.max);
    expect(doc.diagnostics[0]).toHaveProperty('clippedFraction');
  });

  it('fails with one line, an exit code, and no output file on bad flags and bad data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-cli-calib-'));
    const wrong = join(dir, 'wrong.npz');
    writeFileSync(wrong, encodeNpz({ input: { type: 'float32', dims: [2, 3, 28, 28], data: new Float32Array(2 * 3 * 784) } }));
    const out = join(dir, 'ranges.json');
    for (const [args, code, message] of [
      [['calibrate', MODEL, '--calib', wrong, '-o', out], 5, /wrong\.npz: input 'input' expects samples of \[1,28,28\] \(model input \[batch,1,28,28\]\), but the data has samples of \[3,28,28\]/],
      [['calibrate', MODEL, '--calib', CALIB, '--method', 'kl'], 2, /--method: must be one of minmax, percentile, entropy, mse \(got 'kl'\)/],
      [['calibrate', MODEL, '--calib', CALIB, '--calib-size', '0'], 2, /--calib-size: expected a positive integer \(got '0'\)/],
      [['calibrate', MODEL, '--calib', CALIB, '--tensors', 'nope'], 2, /no tensor named 'nope'/],
      [['calibrate', MODEL, '--calib', CALIB, '-o', join(dir, 'missing', 'r.json'), '--calib-size', '8'], 2, /-o .*missing\/r\.json: the directory .*missing does not exist; create it first/],
      [['calibrate', MODEL], 2, /required option '--calib <path>' not specified/],
    ] as const) {
      const r = slimnet([...args]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['wrong.npz']);
    expect(readFileSync(wrong).length).toBeGreaterThan(0);
  });
});
