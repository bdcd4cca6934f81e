/**
 * Every `--json` document, and the JSON files the commands write (ranges, plans, recipes, locks),
 * validates against its JSON Schema in docs/schemas (named after the document's `schema` field), and the validation is strict enough to fail on a missing field or a
 * field of the wrong type (checked on mutated copies).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import AjvModule from 'ajv';
import { FIXTURES, ROOT, TRAINED, slimnetArgv, slimnetEnv } from '../helpers.js';

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'slimnet-json-'));
const resnet = join(TRAINED, 'resnet_bn.onnx');
const resnetDyn = join(TRAINED, 'requantize', 'resnet_bn_dyn.onnx');
const vit = join(TRAINED, 'vit_tiny.onnx');
const calib = join(FIXTURES, 'data', 'fmnist_calib.npz');
const test = join(FIXTURES, 'data', 'fmnist_test.npz');

/** One cheap run of each command that prints JSON, with the schema it must print. */
const RUNS: [string, string[]][] = [
  ['slimnet.inspect/1', ['inspect', vit, '--json']],
  ['slimnet.ranges/1', ['calibrate', resnet, '--calib', calib, '--calib-size', '16', '-o', join(out, 'ranges.json'), '--json']],
  ['slimnet.eval/1', ['eval', resnet, resnetDyn, '--data', test, '--limit', '50', '--runs', '5', '--max-drop', '50', '--json']],
  ['slimnet.bench/1', ['bench', resnet, resnetDyn, '--runs', '5', '--warmup', '1', '--no-memory', '--json']],
  ['slimnet.quantize/1', ['quantize', vit, '-o', join(out, 'vit.dyn.onnx'), '--mode', 'dynamic', '--save-recipe', join(out, 'vit.dyn.recipe.json'), '--json']],
  ['slimnet.prune/1', ['prune', resnet, '-o', join(out, 'resnet.sparse.onnx'), '--sparsity', '0.5', '--no-latency', '--plan-out', join(out, 'prune-plan.json'), '--save-recipe', join(out, 'resnet.sparse.recipe.json'), '--json']],
  ['slimnet.run/1', ['run', join(out, 'vit.dyn.recipe.json'), '--model', vit, '-o', join(out, 'vit.replayed.onnx'), '--json']],
];

/** Files the runs above write (and one more static run), with the schema each must follow. */
const FILES: [string, string][] = [
  ['slimnet.ranges/1', 'ranges.json'],
  ['slimnet.quant-plan/1', 'quant-plan.json'],
  ['slimnet.prune-plan/1', 'prune-plan.json'],
  ['slimnet.lock/1', 'vit.dyn.recipe.lock.json'],
  ['slimnet.recipe/2', 'vit.dyn.recipe.json'],
  ['slimnet.recipe/2', 'resnet.sparse.recipe.json'],
  ['slimnet.recipe/2', 'resnet.int8.recipe.json'],
];
const STATIC_WITH_PLAN = ['quantize', resnet, '-o', join(out, 'resnet.int8.onnx'), '--ranges', join(out, 'ranges.json'), '--placement', 'full', '--plan-out', join(out, 'quant-plan.json'), '--save-recipe', join(out, 'resnet.int8.recipe.json'), '--quiet'];

function validator(schema: string) {
  const file = join(ROOT, 'docs', 'schemas', `${schema.replace('/', '-')}.schema.json`);
  return ajv.getSchema(file) ?? (ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')), file), ajv.getSchema(file)!);
}

async function jsonOf(args: string[]): Promise<unknown> {
  const r = await run(process.execPath, slimnetArgv(args), { env: slimnetEnv(), timeout: 120_000, maxBuffer: 64 << 20 });
  return JSON.parse(r.stdout);
}

describe('--json outputs against docs/schemas', () => {
  it('each command prints (and writes) documents that validate against their schemas, and mutated copies do not', async () => {
    // Two lanes for two cores; run replays the recipe quantize saved, so it comes after it.
    const lane = async (runs: typeof RUNS) => {
      const docs: [string, unknown][] = [];
      for (const [schema, args] of runs) docs.push([schema, await jsonOf(args)]);
      return docs;
    };
    const docs = (await Promise.all([lane(RUNS.slice(0, 4)), lane(RUNS.slice(4))])).flat();
    await run(process.execPath, slimnetArgv(STATIC_WITH_PLAN), { env: slimnetEnv(), timeout: 120_000 });
    for (const [schema, file] of FILES) docs.push([schema, JSON.parse(readFileSync(join(out, file), 'utf8'))]);
    for (const [schema, doc] of docs) {
      const validate = validator(schema);
      expect((doc as { schema: string }).schema).toBe(schema);
      expect(validate(doc), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const required = (JSON.parse(readFileSync(join(ROOT, 'docs', 'schemas', `${schema.replace('/', '-')}.schema.json`), 'utf8')) as { required: string[] }).required;
      for (const key of required.filter((k) => k !== 'schema')) {
        const missing = structuredClone(doc) as Record<string, unknown>;
        delete missing[key];
        expect(validate(missing), `${schema} without ${key}`).toBe(false);
        const wrong = structuredClone(doc) as Record<string, unknown>;
        // A value of another JSON type than the one documented.
        wrong[key] = typeof wrong[key] === 'string' ? 42 : 'not-the-documented-type';
        expect(validate(wrong), `${schema} with ${key} of the wrong type`).toBe(false);
      }
    }
  }, 300_000);

  it('a nested field of the wrong type fails too', () => {
    const validate = validator('slimnet.bench/1');
    const row = { model: 'm.onnx', provider: 'cpu', available: true, sizeBytes: 10, latency: { runs: 5, medianMs: 1, p90Ms: 1, p99Ms: 1, meanMs: 1, minMs: 1 } };
    const hardware = { cpuModel: 'x', cores: 2, arch: 'x64', platform: 'linux', memoryBytes: 1, int8Flags: [], hasVnni: false, ortVersion: '1', nodeVersion: 'v20' };
    const doc = { schema: 'slimnet.bench/1', slimnet: '0.1.0', createdAt: 'now', batch: 1, threads: 1, runs: 5, hardware, warnings: [], rows: [row], gates: [], passed: true };
    expect(validate(doc)).toBe(true);
    expect(validate({ ...doc, rows: [{ ...row, latency: { ...row.latency, medianMs: '1 ms' } }] })).toBe(false);
    expect(validate({ ...doc, hardware: { ...hardware, cores: -1 } })).toBe(false);
  });
});
