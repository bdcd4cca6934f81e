/** slimnet eval and slimnet bench as a pipeline runs them: real processes, files, exit codes. */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel, saveModel } from '../../src/onnx/io.js';
import { makeQdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { slimnet } from './slimnet.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-eval-cli-'));
const fp32 = join(dir, 'resnet_fp32.onnx');
const int8 = join(dir, 'resnet_int8.onnx');
const broken = join(dir, 'resnet_int8_bad_range.onnx');
const data = join(FIXTURES, 'data', 'fmnist_test.npz');

beforeAll(async () => {
  const engine = new Engine();
  const calib = new NpzDataset(join(FIXTURES, 'data', 'fmnist_calib.npz'));
  const source = loadModel(join(TRAINED, 'resnet_bn.onnx'));
  const good = await makeQdqPair(engine, source, calib);
  const bad = await makeQdqPair(engine, source, calib, { badRange: { tensor: good.activations[3]!, factor: 0.05 } });
  saveModel(good.float, fp32);
  saveModel(good.qdq, int8);
  saveModel(bad.qdq, broken);
  await engine.close();
});

describe('slimnet eval', () => {
  it('prints the comparison table and passes a gate the candidate meets (exit 0)', () => {
    const r = slimnet(['eval', fp32, int8, '--data', data, '--limit', '400', '--runs', '5', '--max-drop', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^classification on 'logits', 400 samples of .*fmnist_test.npz/);
    expect(r.stdout).toMatch(/top1\s+9\d\.\d\d%\s+9\d\.\d\d%/);
    expect(r.stdout).toMatch(/latency \(median\)\s+\d/);
    expect(r.stdout).toMatch(/size\s+708\.7 kB\s+210\.5 kB\s+0\.30x/);
    expect(r.stdout).toMatch(/output logits: agreement \d+\.\d\d%, cosine 0\.99\d+.*SQNR \d\d\.\d dB/);
    expect(r.stdout).toMatch(/gate --max-drop 2: passed/);
  });

  it('prints JSON with the documented fields', () => {
    const r = slimnet(['eval', fp32, int8, '--data', data, '--limit', '300', '--json', '--no-speed']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('slimnet.eval/1');
    expect(j.reference.model).toBe(fp32);
    expect(j.reference.top1).toBeGreaterThan(0.9);
    expect(j.candidate.top1).toBeGreaterThan(0.9);
    expect(typeof j.drop).toBe('number');
    expect(j.outputs.logits.sqnr).toBeGreaterThan(25);
    expect(j.outputs.logits.agreement).toBeGreaterThan(0.95);
    expect(j.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.candidate.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.speed).toBeNull();
  });

  it('exits 10 when the candidate misses a gate, after printing its results, and writes the report', () => {
    const report = join(dir, 'broken.html');
    const r = slimnet(['eval', fp32, broken, '--data', data, '--limit', '300', '--runs', '3', '--max-drop', '0.5', '--fail-if', 'agreement < 0.99', '--report', report]);
    expect(r.code).toBe(10);
    expect(r.stdout).toMatch(/gate --max-drop 0.5: FAILED \(drop = \d+/);
    expect(r.stdout).toMatch(/Layers to blame/);
    expect(r.stderr).toMatch(/missed 2 gates: --max-drop 0.5 \(drop = [\d.]+\); --fail-if "agreement < 0.99" \(agreement = [\d.]+\)/);
    expect(readFileSync(report, 'utf8')).toMatch(/<svg /);
  });

  it('gives one clear line and exit 2 for bad flags, before any work', () => {
    const unknown = slimnet(['eval', fp32, int8, '--data', data, '--limit', '50', '--no-speed', '--fail-if', 'drop > 1 or speed < 2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--fail-if: unknown variable 'speed' in "drop > 1 or speed < 2"; known: drop \(.*\), .*speedup \(/);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const pdf = slimnet(['eval', fp32, int8, '--data', data, '--report', join(dir, 'x.pdf')]);
    expect(pdf.code).toBe(2);
    expect(pdf.stderr).toMatch(/--report .*x.pdf: unknown report type '.pdf'; use .html, .md, .json or .txt/);
    const drop = slimnet(['eval', fp32, int8, '--data', data, '--max-drop', 'a lot']);
    expect(drop.code).toBe(2);
    expect(drop.stderr).toMatch(/--max-drop must be a non-negative number of points \(0.5\) or a percentage \(1%\), got 'a lot'/);
    const labels = slimnet(['eval', fp32, int8, '--data', data, '--labels', 'targets']);
    expect(labels.code).toBe(5);
    expect(labels.stderr).toMatch(/--labels targets: .*fmnist_test.npz has no array named 'targets' \(it has: input, labels\)/);
    expect(existsSync(join(dir, 'x.pdf'))).toBe(false);
  });
});

describe('slimnet bench', () => {
  it('reports this CPU\'s int8 flags, each provider, and a missed speed gate (exit 10)', () => {
    const r = slimnet(['bench', fp32, int8, '--ep', 'cpu,cuda', '--runs', '5', '--warmup', '2', '--no-memory', '--min-speedup', '1000']);
    expect(r.code).toBe(10);
    const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    for (const flag of ['avx512_vnni', 'avx_vnni', 'avx2']) {
      if (new RegExp(`\\b${flag}\\b`).test(cpuinfo)) expect(r.stdout).toMatch(new RegExp(`int8-relevant flags: .*\\b${flag}\\b`));
    }
    expect(r.stdout).toMatch(/VNNI: (yes|no)/);
    expect(r.stdout).toMatch(/resnet_int8\.onnx\s+cpu\s+\d+\.\d+ ms/);
    expect(r.stdout).toMatch(/resnet_fp32\.onnx\s+cuda\s+not available/);
    expect(r.stdout).toMatch(/not available: cuda: CUDA: .*npm rebuild onnxruntime-node/);
    expect(r.stderr).toMatch(/benchmark missed a gate: --min-speedup 1000 for .*resnet_int8.onnx on cpu \(speedup = /);
  });

  it('prints JSON with rows, hardware and peak memory', () => {
    const r = slimnet(['bench', fp32, int8, '--runs', '3', '--warmup', '1', '--batch', '4', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schema).toBe('slimnet.bench/1');
    expect(j.batch).toBe(4);
    expect(j.rows).toHaveLength(2);
    expect(j.rows[1].sizeRatio).toBeCloseTo(0.297, 2);
    expect(j.rows[0].peakRssBytes).toBeGreaterThan(j.rows[0].modelMemoryBytes);
    expect(j.hardware.ortVersion).toBe('1.30.0');
  });
});
