/** `slimnet quantize` as a user runs it: real process, real files, exit codes and messages. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { saveRanges } from '../../src/calibrate/store.js';
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

describe('slimnet quantize: a trained fixture end to end', () => {
  it('writes the model, prints the summary, and --json follows slimnet.quantize/1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-q-'));
    const out = join(dir, 'resnet_bn.int8.onnx');
    const text = slimnet(['quantize', MODEL, '-o', out, '--calib', CALIB, '--calib-size', '100', '--placement', 'full']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ranges: mse on .*fmnist_calib.npz \(100 samples\)/);
    expect(text.stdout).toMatch(/Nodes: 24 quantized, 13 folded into their producer/);
    expect(text.stdout).toMatch(/24 of 24 quantized groups fused into integer kernels/);
    expect(text.stdout).toMatch(/QLinearConv 16, QLinearAdd 6/);
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(dir)).toEqual(['resnet_bn.int8.onnx']);
    const twice = slimnet(['quantize', out, '-o', join(dir, 'twice.onnx'), '--calib', CALIB]);
    expect(twice.code).toBe(4);
    expect(twice.stderr).toMatch(/is already quantized \(node .*QuantizeLinear.*\); quantize the float model it came from/);
    const nothing = slimnet(['quantize', MODEL, '-o', join(dir, 'none.onnx'), '--calib', CALIB, '--op-types', 'LSTM', '--placement', 'full']);
    expect(nothing.code).toBe(4);
    expect(nothing.stderr).toMatch(/no node can be quantized statically \(24 x not in --op-types/);
    expect(readdirSync(dir)).toEqual(['resnet_bn.int8.onnx']);

    const plan = join(dir, 'plan.json');
    const json = slimnet(['quantize', MODEL, '-o', out, '--calib', CALIB, '--calib-size', '50', '--format', 'qoperator', '--exclude', '/fc/Gemm', '--plan-out', plan, '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r.schema).toBe('slimnet.quantize/1');
    expect(r.settings.format).toBe('qoperator');
    expect(r.summary.skipped).toContainEqual({ node: '/fc/Gemm', op: 'Gemm', detail: 'excluded by --exclude /fc/Gemm' });
    expect(r.output.bytes).toBeLessThan(0.3 * r.input.bytes);
    expect(r.speedCheck.unfused).toEqual([]);
    expect(JSON.parse(readFileSync(plan, 'utf8')).schema).toBe('slimnet.quant-plan/1');
  });

  it('re-quantizes from a ranges file without calibrating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-q-'));
    const ranges = join(dir, 'ranges.json');
    const engine = new Engine();
    try {
      saveRanges(await calibrate(loadModel(MODEL), CALIB, { engine, limit: 50 }), ranges, { modelSource: MODEL });
    } finally {
      await engine.close();
    }
    const r = slimnet(['quantize', MODEL, '-o', join(dir, 'q.onnx'), '--ranges', ranges, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).calibration).toMatchObject({ source: ranges, method: 'minmax', samples: 50 });
    const wrong = slimnet(['quantize', join(TRAINED, 'mobilenet_dw.onnx'), '-o', join(dir, 'm.onnx'), '--ranges', ranges]);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/these ranges were computed for another model/);
  });
});
