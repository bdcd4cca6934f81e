/** `slimnet run`: pipeline files (YAML/JSON) with gates, errors naming the line and the key, saved recipes replayed byte for byte. */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';
import { parsePipeline } from '../../src/recipe/pipeline/parse.js';
import { readmeSection } from '../package/readme.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
copyFileSync(join(TRAINED, 'resnet_bn.onnx'), join(dir, 'model.onnx'));
copyFileSync(join(FIXTURES, 'data', 'fmnist_calib.npz'), join(dir, 'calib.npz'));
copyFileSync(join(FIXTURES, 'data', 'fmnist_test.npz'), join(dir, 'test.npz'));

function pipeline(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The one-line error of parsing `text` (as file p.yaml). */
function parseError(text: string): string {
  try {
    parsePipeline(text, 'p.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('slimnet run', () => {
  it('runs quantize -> eval with gates -> bench, paths relative to the file', () => {
    const file = pipeline('pipeline.yaml', `# static int8, checked and timed
model: model.onnx
steps:
  - quantize:
      calib: calib.npz
      placement: full
      output: model.int8.onnx
  - eval: { data: test.npz, limit: 200, max-drop: 3, fail-if: "sqnr < 20" }
  - bench: { runs: 10, warmup: 2 }
`);
    const r = slimnet(['run', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'model.int8.onnx'))).toBe(true);
    expect(r.stdout).toMatch(/pipeline\.yaml:4: steps\[0\]\.quantize\n {2}static: \d+ nodes quantized/);
    expect(r.stdout).toMatch(/steps\[1\]\.eval\n {2}top1: drop -?\d+\.\d\d, agreement \d\.\d\d, SQNR \d+\.\d\d dB/);
    expect(r.stdout).toMatch(/gate --max-drop 3: passed/);
    expect(r.stdout).toMatch(/gate --fail-if "sqnr < 20": passed/);
    expect(r.stdout).toMatch(/steps\[2\]\.bench\n {2}\S*model\.onnx: p50 \d+\.\d+ ms/);
  });

  it('a weight-only step on a model with external data saves it the same way, streaming through a spill file, as slimnet quantize does', () => {
    const lm = join(dir, 'lm');
    mkdirSync(lm);
    for (const f of ['model.onnx', 'model.onnx_data']) copyFileSync(join(FIXTURES, 'lm', 'small', f), join(lm, f));
    const file = join(lm, 'p.yaml');
    writeFileSync(file, 'model: model.onnx\nsteps:\n  - quantize: { mode: weight-only, output: run.onnx }\n');
    const r = slimnet(['run', file]);
    expect(r.code, r.stderr).toBe(0);
    const q = slimnet(['quantize', join(lm, 'model.onnx'), '-o', join(lm, 'cli.onnx'), '--mode', 'weight-only']);
    expect(q.code, q.stderr).toBe(0);
    // Same bytes in both files of both outputs; no spill file left behind.
    expect(readdirSync(lm).sort()).toEqual(['cli.onnx', 'cli.onnx.data', 'model.onnx', 'model.onnx_data', 'p.yaml', 'run.onnx', 'run.onnx.data']);
    expect(Buffer.compare(readFileSync(join(lm, 'run.onnx.data')), readFileSync(join(lm, 'cli.onnx.data')))).toBe(0);
    expect(readFileSync(join(lm, 'run.onnx')).toString('latin1').replaceAll('run.onnx.data', 'cli.onnx.data')).toBe(readFileSync(join(lm, 'cli.onnx')).toString('latin1'));
  });

  it('stops at a missed gate with exit 10; the JSON form works the same', () => {
    const file = pipeline('gate.json', JSON.stringify({
      model: 'model.onnx',
      steps: [{ quantize: { mode: 'dynamic', output: 'model.dyn.onnx' } }, { eval: { data: 'test.npz', limit: 100, 'fail-if': 'size_ratio < 2' } }, { bench: { runs: 5 } }],
    }, null, 2));
    const r = slimnet(['run', file]);
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/^slimnet: \S*model\.dyn\.onnx missed a gate: --fail-if "size_ratio < 2"/m);
    expect(r.stdout).not.toMatch(/bench/);
  });

  it('names the line and the key of what is wrong, before any work', () => {
    expect(parseError('model: m.onnx\nsteps:\n  - quantize:\n      output: o.onnx\n      placment: full\n')).toBe("p.yaml:5: steps[0].quantize.placment is not a quantize option (output, mode, calib, calib-size, recipe, save-recipe, method, percentile, format, placement, activations, weights, target, per-channel, block-size, layer-weights, algorithm, symmetric, accuracy-level, exclude, op-types, max-drop, eval-data, eval-limit, prefer)");
    expect(parseError('model: m.onnx\nsteps:\n  - eval: { data: t.npz, limit: -3 }\n')).toBe('p.yaml:3: steps[0].eval.limit must be a positive integer (got -3)');
    expect(parseError('model: m.onnx\nsteps:\n  - eval: { limit: 3 }\n')).toMatch(/^p\.yaml:3: steps\[0\]\.eval needs 'data': evaluation data$/);
    expect(parseError('model: m.onnx\nsteps:\n  - distill: {}\n')).toMatch(/^p\.yaml:3: steps\[0\] must have exactly one key, the step: quantize, prune, eval, bench \(got distill\)$/);
    expect(parseError('model: m.onnx\nsteps:\n  - prune: {}\n')).toBe("p.yaml:3: steps[0].prune needs 'output': where to write the pruned model (-o)");
    expect(parseError('model: m.onnx\nsteps:\n  - prune:\n      output: o.onnx\n      sparsity: 150%\n')).toBe("p.yaml:5: steps[0].prune.sparsity must be a fraction in [0, 1) such as 0.5, or a percentage such as \"50%\" (got '150%')");
    expect(parseError('model: m.onnx\nsteps:\n  - bench:\n      constructor: 1\n')).toMatch(/^p\.yaml:4: steps\[0\]\.bench\.constructor is not a bench option \(models, runs/);
    expect(parseError('model: m.onnx\nstep: []\n')).toBe('p.yaml:2: step is not a pipeline key (schema, model, steps, save-recipe)');
    expect(parseError('steps: []\n')).toMatch(/^p\.yaml:1: model must be the path/);
    expect(parseError('model: m.onnx\nsteps:\n  - eval: {data: t.npz\n')).toMatch(/^p\.yaml:\d: not valid YAML or JSON/);
    expect(parseError('{\n  "model": "m.onnx",\n  "steps": [\n    { "eval": { "data": 3 } }\n  ]\n}')).toBe('p.yaml:4: steps[0].eval.data must be a path (got 3)');
    const foreign = pipeline('foreign.yaml', 'model: model.onnx\nsteps:\n  - quantize:\n      mode: dynamic\n      output: out.onnx\n      calib: calib.npz\n');
    const r = slimnet(['run', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`slimnet: ${foreign}:6: steps[0].quantize.calib: not used by mode dynamic`);
    expect(existsSync(join(dir, 'out.onnx'))).toBe(false);
  });

  it('runs prune -> quantize -> eval -> bench, each step reading the last model; --json; the prune step\'s recipe replays', () => {
    const file = pipeline('prune.yaml', `model: model.onnx
save-recipe: chain.recipe.json
steps:
  - prune:
      method: channel
      sparsity: 25%
      calib: calib.npz
      calib-size: 32
      output: model.pruned.onnx
      save-recipe: model.pruned.recipe.json
  - quantize: { calib: calib.npz, calib-size: 32, placement: full, output: model.pruned.int8.onnx }
  - eval: { data: test.npz, limit: 200, runs: 5, fail-if: "size_ratio > 0.5" }
  - bench: { runs: 5, warmup: 1 }
`);
    const r = slimnet(['run', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { schema: string; exitCode: number; steps: { step: string; kind: string; output?: string; gates?: { gate: string; passed: boolean }[]; result: Record<string, unknown> }[] };
    expect(doc.schema).toBe('slimnet.run/1');
    expect(doc.exitCode).toBe(0);
    expect(doc.steps.map((st) => st.kind)).toEqual(['prune', 'quantize', 'eval', 'bench']);
    expect(doc.steps[0]!.step).toMatch(/prune\.yaml:4: steps\[0\]\.prune$/);
    expect(doc.steps[0]!.result).toMatchObject({ method: 'channel', sparsity: 0.25, replayed: false });
    expect((doc.steps[0]!.result.bytesAfter as number)).toBeLessThan(doc.steps[0]!.result.bytesBefore as number);
    // The quantize step read the pruned model: its "before" is the pruned file.
    expect(doc.steps[1]!.result.bytesBefore).toBe(doc.steps[0]!.result.bytesAfter);
    expect(doc.steps[2]!.gates).toEqual([{ gate: '--fail-if "size_ratio > 0.5"', passed: true }]);
    expect((doc.steps[3]!.result.models as unknown[]).length).toBe(2);
    const lock = JSON.parse(readFileSync(join(dir, 'model.pruned.recipe.lock.json'), 'utf8'));
    expect(Object.keys(lock.data)).toEqual(['calibration']);
    expect(lock.executionProvider).toBe('CPUExecutionProvider');

    // The pipeline's recipe (prune, then static quantize) replays in one go to the last model's bytes.
    const chain = JSON.parse(readFileSync(join(dir, 'chain.recipe.json'), 'utf8'));
    expect(chain.steps.map((st: object) => Object.keys(st)[0])).toEqual(['prune', 'quantize']);
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'chain.recipe.lock.json'), 'utf8')).data)).toEqual(['steps[0].calibration', 'steps[1].calibration']);
    const whole = slimnet(['run', join(dir, 'chain.recipe.json'), '--model', join(dir, 'model.onnx'), '-o', join(dir, 'chain.onnx'), '--locked']);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).not.toMatch(/note:/);
    expect(Buffer.compare(readFileSync(join(dir, 'model.pruned.int8.onnx')), readFileSync(join(dir, 'chain.onnx')))).toBe(0);

    // The saved prune recipe replays (reading the calibration file it names) to the same bytes.
    const replay = slimnet(['run', join(dir, 'model.pruned.recipe.json'), '--model', join(dir, 'model.onnx'), '-o', join(dir, 'replay.pruned.onnx'), '--locked']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/channel \(recipe replayed\)/);
    expect(Buffer.compare(readFileSync(join(dir, 'model.pruned.onnx')), readFileSync(join(dir, 'replay.pruned.onnx')))).toBe(0);
    // Other data than the lock's: refused with --locked, before anything is written.
    const other = slimnet(['run', join(dir, 'model.pruned.recipe.json'), '--model', join(dir, 'model.onnx'), '-o', join(dir, 'other.onnx'), '--calib', join(dir, 'test.npz'), '--locked', '--json']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^slimnet: --locked: the calibration data \S*test\.npz differs from \S*calib\.npz the recipe was made with/m);
    expect(JSON.parse(other.stdout)).toMatchObject({ exitCode: 2, steps: [] });
    expect(existsSync(join(dir, 'other.onnx'))).toBe(false);
  });

  it("accepts the README's pipeline example, and the README quotes a real error", () => {
    const text = readmeSection('The CLI').match(/### Pipelines and recipes[\s\S]*?```yaml\n([\s\S]*?)```/)?.[1];
    expect(text).toBeDefined();
    const p = parsePipeline(text!, join(dir, 'readme.yaml'));
    expect(p.steps.map((st) => st.kind)).toEqual(['prune', 'quantize', 'eval', 'bench']);
    expect(p.saveRecipe).toBe(join(dir, 'model.recipe.json'));
    expect(p.steps[0]!.options).toEqual({ method: 'channel', sparsity: 0.3, calibration: join(dir, 'calib.npz'), output: join(dir, 'model.pruned.onnx') });
    expect(p.steps[1]!.options).toEqual({ calibration: join(dir, 'calib.npz'), output: join(dir, 'model.int8.onnx'), saveRecipe: join(dir, 'model.int8.recipe.json') });
    expect(p.steps[2]!.options).toEqual({ data: join(dir, 'test.npz'), maxDrop: 1, failIf: 'speedup < 1.1' });
    const quoted = readmeSection('The CLI').match(/\(`(pipeline\.yaml:5: [^`]*)\(\.\.\.\)`/)?.[1];
    expect(quoted).toBeDefined();
    expect(parseError('model: m.onnx\nsteps:\n  - quantize:\n      output: o.onnx\n      placment: full\n').replace('p.yaml', 'pipeline.yaml')).toContain(quoted!);
  });

  it('replays a saved recipe to the same bytes', () => {
    const first = slimnet(['quantize', join(dir, 'model.onnx'), '-o', join(dir, 'q.onnx'), '--calib', join(dir, 'calib.npz'), '--save-recipe', join(dir, 'q.recipe.json')]);
    expect(first.code, first.stderr).toBe(0);
    const r = slimnet(['run', join(dir, 'q.recipe.json'), '--model', join(dir, 'model.onnx'), '-o', join(dir, 'replay.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recipe replayed/);
    expect(Buffer.compare(readFileSync(join(dir, 'q.onnx')), readFileSync(join(dir, 'replay.onnx')))).toBe(0);
    const missing = slimnet(['run', join(dir, 'q.recipe.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/is a saved recipe: give the model to replay it on and where to write it: --model MODEL\.onnx -o OUT\.onnx/);
    // The lock beside the recipe is read by the replay: never written over.
    const lock = readFileSync(join(dir, 'q.recipe.lock.json'));
    for (const args of [['run', join(dir, 'q.recipe.json'), '--model', join(dir, 'model.onnx')], ['quantize', join(dir, 'model.onnx'), '--recipe', join(dir, 'q.recipe.json')]]) {
      const over = slimnet([...args, '-o', join(dir, 'q.recipe.lock.json')]);
      expect(over.code).toBe(2);
      expect(over.stderr).toMatch(/q\.recipe\.lock\.json: is the lock of the recipe.*; writing there would replace it: give another name/);
    }
    expect(readFileSync(join(dir, 'q.recipe.lock.json')).equals(lock)).toBe(true);
  });
});
