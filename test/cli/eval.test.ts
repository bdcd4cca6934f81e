/** slimnet eval and slimnet bench as a pipeline runs them: real processes, files, exit codes. */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel, saveModel } from '../../src/onnx/io.js';
import { makeQdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { soleReaderQuantizers, withBadRange } from '../../fixtures/qdq/bad-range.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { tensorType } from '../../src/ir/types.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { slimnet } from '../helpers.js';

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
  saveModel(good.float, fp32);
  saveModel(good.qdq, int8);
  saveModel(withBadRange(good.qdq, soleReaderQuantizers(good.qdq)[3]!.layer, 0.05), broken);
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
    // One zero point per weight (x64quantprecision loads it): 211.6 kB.
    expect(r.stdout).toMatch(/size\s+708\.7 kB\s+211\.6 kB\s+0\.30x/);
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

  it('scores with a user metric module and writes a Markdown report', () => {
    const metric = join(dir, 'positive-logit-share.mjs');
    // Share of samples whose largest logit is positive: a task metric slimnet does not know.
    writeFileSync(metric, `export default function positiveShare(outputs, batch) {
      const v = outputs.logits.data; const n = batch.count; const c = v.length / n; const s = [];
      for (let i = 0; i < n; i++) { let m = -Infinity; for (let j = 0; j < c; j++) m = Math.max(m, v[i * c + j]); s.push(m > 0 ? 1 : 0); }
      return s;
    }\n`);
    const md = join(dir, 'report.md');
    const r = slimnet(['eval', fp32, int8, '--data', data, '--limit', '100', '--no-speed', '--no-layers', '--metric', metric, '--json', '--report', md]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.metric).toBe('positiveShare');
    expect(j.reference.positiveShare).toBe(1);
    expect(j.metrics.top1.reference).toBe(j.reference.top1);
    expect(readFileSync(md, 'utf8')).toMatch(/\| positiveShare \| 1 \|/);
    const bad = join(dir, 'not-a-metric.mjs');
    writeFileSync(bad, 'export const x = 1;\n');
    const e = slimnet(['eval', fp32, int8, '--data', data, '--metric', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--metric .*not-a-metric.mjs: export a function \(outputs, batch\) => score/);
  });

  it('leaves out what the reference gives as NaN, counts it, and fails a gate on NaN in the candidate only', () => {
    // y = log(x·w): the reference reads x0, the candidate x0 - x1/2; on [1, 4] only the candidate
    // takes the log of a negative, on [-1, 0] both do.
    const logModel = (w: number[], path: string) => {
      const b = new GraphBuilder({ opset: 17 });
      const mm = b.op('MatMul', [b.input('x', DataType.FLOAT, ['n', 2]), b.floats('w', [2, 1], w)]);
      b.output(b.op('Log', [mm], {}, { outputNames: ['y'] }), tensorType(DataType.FLOAT, ['n', 1]));
      saveModel(b.model, path);
      return path;
    };
    const ref = logModel([1, 0], join(dir, 'log_ref.onnx'));
    const cand = logModel([1, -0.5], join(dir, 'log_cand.onnx'));
    const xs = join(dir, 'log_x.npz');
    writeFileSync(xs, encodeNpz({ x: { type: 'float32', dims: [4, 2], data: Float32Array.of(2, 0, 1, 4, -1, 0, 3, 1) } }));
    const r = slimnet(['eval', ref, cand, '--data', xs, '--no-speed', '--fail-if', 'sqnr < 20']);
    expect(r.stdout).toMatch(/output y: .*SQNR -inf dB \(NaN\/inf: 1 in the candidate only; 1 in the reference, left out\), MSE Infinity, max abs error Infinity/);
    expect(r.code).toBe(10);
    const same = slimnet(['eval', ref, ref, '--data', xs, '--no-speed', '--json']);
    expect(same.code).toBe(0);
    const y = JSON.parse(same.stdout).outputs.y;
    expect(y).toMatchObject({ identical: false, sqnr: null, mse: 0, maxAbsError: 0, nonFinite: { reference: 1, candidate: 0 } });
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
    expect(labels.stderr).toMatch(/--labels targets: .*fmnist_test.npz has no labels array named 'targets'/);
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
    // The gate on cuda cannot be evaluated here: it fails closed, with the reason.
    expect(r.stderr).toMatch(/benchmark missed 2 gates: --min-speedup 1000 for .*resnet_int8.onnx on cpu \(speedup = .*; --min-speedup 1000 for .*resnet_int8.onnx on cuda \(could not be evaluated: .*did not run on cuda/);
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
