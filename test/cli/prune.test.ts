/** `slimnet prune` as a user runs it: real processes, files on disk, ONNX Runtime. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';

const RESNET = join(TRAINED, 'resnet_bn.onnx');
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');

describe('slimnet prune', () => {
  it('channel pruning: writes a smaller model, the plan, and a report with measured size, speed and accuracy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-prune-'));
    const out = join(dir, 'resnet.pruned.onnx');
    const plan = join(dir, 'plan.json');
    const r = slimnet(['prune', RESNET, '-o', out, '--method', 'channel', '--sparsity', '30%', '--calib', CALIB, '--calib-size', '64', '--eval-data', TEST_SET, '--eval-size', '200', '--plan-out', plan, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe('slimnet.prune/1');
    expect(report.settings).toMatchObject({ method: 'channel', sparsity: 0.3, reconstruct: true, importance: 'activation' });
    expect(report.summary.channels.groups.length).toBe(10);
    expect(report.check.sizes.after.raw).toBeLessThan(report.check.sizes.before.raw * 0.75);
    expect(report.check.latency.speedup).toBeGreaterThan(0);
    expect(report.check.accuracy.metric).toBe('top1');
    expect(report.cpu).toBeTruthy();
    expect(JSON.parse(readFileSync(plan, 'utf8')).schema).toBe('slimnet.prune-plan/1');
    expect(loadModel(out).graph.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(16);
    expect(readdirSync(dir).sort()).toEqual(['plan.json', 'resnet.pruned.onnx']);
  });

  it('2:4 with the text report: per-layer zeros, the hardware that runs 2:4, and the first/last layers kept dense', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-prune-'));
    const out = join(dir, 'nm.onnx');
    const r = slimnet(['prune', RESNET, '-o', out, '--pattern', '2:4', '--no-latency']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pattern 2:4/);
    expect(r.stdout).toMatch(/\/blocks\/blocks.0\/conv1\/Conv\s+Conv\s+2304\s+50.0%\s+magnitude/);
    expect(r.stdout).toMatch(/NVIDIA sparse tensor cores/);
    expect(r.stdout).toMatch(/first and last weighted layers left dense by default: \/stem\/stem.0\/Conv, \/fc\/Gemm/);
    expect(r.stdout).toMatch(/size: .* raw, .* gzip/);
  });

  it('bad input: one line naming the flag or the file, the exit code of its kind, no output written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-prune-'));
    const out = join(dir, 'x.onnx');
    // The option checks themselves are tested through the API (unstructured.test.ts); here, that
    // the CLI maps their errors to one line and an exit code.
    const cases: [string[], number, RegExp][] = [
      [['prune', RESNET, '-o', out, '--sparsity', '0.5', '--method', 'wanda'], 2, /--method wanda needs calibration data \(--calib DATA/],
      [['prune', join(dir, 'missing.onnx'), '-o', out, '--sparsity', '0.5'], 3, /missing\.onnx: no such file/],
      [['prune', RESNET, '-o', RESNET, '--sparsity', '0.5'], 2, /-o .*: is the input model; writing there would replace it/],
      [['prune', RESNET, '-o', out, '--sparsity', '0.5', '--damp-percent', '0.05'], 2, /--damp-percent applies to --method sparsegpt only/],
    ];
    for (const [args, code, message] of cases) {
      const r = slimnet(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});
