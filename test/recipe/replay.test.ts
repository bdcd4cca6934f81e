/**
 * Recipes of every kind replay byte for byte through the CLI, on the trained fixtures: weight-only
 * GPTQ (reads the data again), fp16 with a data range check (its findings kept), and prune with a
 * --max-drop search (the chosen sparsity and plan kept: no search on replay), and (through the API)
 * Wanda with a sensitivity scan, whose data is read again on replay. Dynamic is covered by
 * test/wizard/wizard.test.ts, static by test/cli/run.test.ts and test/wizard/terminal.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { prune } from '../../src/prune/prune.js';
import { resolvePruneOptions } from '../../src/prune/options.js';
import { pruneStep, pruneStepOptions } from '../../src/recipe/prune-recipe.js';
import { stepData } from '../../src/recipe/replay.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-recipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const calib = join(dir, 'calib.npz');
copyFileSync(join(FIXTURES, 'data', 'fmnist_calib.npz'), calib);
const test = join(FIXTURES, 'data', 'fmnist_test.npz');

const same = (a: string, b: string) => Buffer.compare(readFileSync(join(dir, a)), readFileSync(join(dir, b))) === 0;
const json = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

function saveAndReplay(command: 'quantize' | 'prune', model: string, args: string[], name: string) {
  const first = slimnet([command, model, '-o', join(dir, `${name}.onnx`), ...args, '--save-recipe', join(dir, `${name}.recipe.json`)]);
  expect(first.code, first.stderr).toBe(0);
  const again = slimnet([command, model, '-o', join(dir, `${name}.replay.onnx`), '--recipe', join(dir, `${name}.recipe.json`), '--locked']);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).not.toMatch(/differs/);
  expect(same(`${name}.onnx`, `${name}.replay.onnx`)).toBe(true);
  return { recipe: json(`${name}.recipe.json`), lock: json(`${name}.recipe.lock.json`), replay: again };
}

describe('recipes of every command', () => {
  it('prune by Wanda with per-layer sparsities from a sensitivity scan: the plan replays through the API, reading the data again', async () => {
    const model = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const engine = new Engine({ intraOpThreads: 1, interOpThreads: 1 });
    try {
      const options = { method: 'wanda', scope: 'sensitivity', sparsity: 0.5, calibration: calib, calibSize: 16, engine } as const;
      const first = await prune(model, options);
      const step = pruneStep(resolvePruneOptions(options), first.plan, stepData(join(dir, 'w.recipe.json'), calib));
      expect(step.data).toEqual({ calibration: 'calib.npz' });
      expect(new Set(step.plan.layers.map((l) => l.sparsity)).size).toBeGreaterThan(1);
      const again = await prune(model, { ...pruneStepOptions(step, calib), engine });
      expect(Buffer.compare(Buffer.from(modelToBytes(again.model)), Buffer.from(modelToBytes(first.model)))).toBe(0);
      // The plan belongs to its model.
      await expect(prune(loadModel(join(TRAINED, 'mobilenet_dw.onnx')), { ...pruneStepOptions(step, calib), engine })).rejects.toThrow(/the pruning plan was made for another model/);
    } finally {
      await engine.close();
    }
  });

  it('weight-only GPTQ: the recipe names its data relative to itself; other data is a note, or an error with --locked', () => {
    const vit = join(TRAINED, 'vit_tiny.onnx');
    const { recipe, lock } = saveAndReplay('quantize', vit, ['--mode', 'weight-only', '--algorithm', 'gptq', '--calib', calib, '--calib-size', '16'], 'gptq');
    expect(recipe.schema).toBe('slimnet.recipe/2');
    expect(recipe.steps[0].quantize).toMatchObject({ mode: 'weight-only', options: { algorithm: 'gptq', calibSize: 16 }, data: { calibration: 'calib.npz' } });
    expect(lock).toMatchObject({ schema: 'slimnet.lock/1', executionProvider: 'CPUExecutionProvider', data: { calibration: { path: calib } } });
    expect(lock.data.calibration.sha256).toMatch(/^[0-9a-f]{64}$/);
    const other = slimnet(['quantize', vit, '-o', join(dir, 'gptq.other.onnx'), '--recipe', join(dir, 'gptq.recipe.json'), '--calib', test]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/note: the calibration data \S*fmnist_test\.npz differs from \S*calib\.npz/);
    expect(other.stderr).toMatch(/note: the replayed model differs from the one the recipe recorded/);
    const locked = slimnet(['quantize', vit, '-o', join(dir, 'gptq.locked.onnx'), '--recipe', join(dir, 'gptq.recipe.json'), '--calib', test, '--locked']);
    expect(locked.code).toBe(2);
    expect(existsSync(join(dir, 'gptq.locked.onnx'))).toBe(false);
  });

  it('fp16 with a data range check: what the data found is kept, so replay reads no data', () => {
    const { recipe } = saveAndReplay('quantize', join(TRAINED, 'resnet_bn.onnx'), ['--mode', 'fp16', '--calib', calib, '--calib-size', '16'], 'fp16');
    expect(recipe.steps[0].quantize).toMatchObject({ mode: 'fp16', decisions: { beyondFp16: {} } });
    expect(recipe.steps[0].quantize.data).toBeUndefined();
    const extra = slimnet(['quantize', join(TRAINED, 'resnet_bn.onnx'), '-o', join(dir, 'x.onnx'), '--recipe', join(dir, 'fp16.recipe.json'), '--calib', calib]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/--calib: the recipe \S+ reads no data on replay/);
  });

  it('prune with a --max-drop search: the sparsity it chose and the plan replay without searching', () => {
    const { recipe, replay } = saveAndReplay('prune', join(TRAINED, 'resnet_bn.onnx'), ['--sparsity', '0.8', '--scope', 'global', '--max-drop', '1', '--eval-data', test, '--eval-size', '100', '--no-latency'], 'prune');
    const step = recipe.steps[0].prune;
    expect(step.options).toMatchObject({ method: 'magnitude', scope: 'global' });
    expect(step.options.maxDrop).toBeUndefined();
    expect(step.plan.layers.length).toBeGreaterThan(3);
    // Global magnitude gives each layer its own sparsity: the recipe keeps every one.
    expect(new Set(step.plan.layers.map((l: { sparsity: number }) => l.sparsity)).size).toBeGreaterThan(1);
    expect(replay.stdout).not.toMatch(/search|tried/i);
    // A prune recipe is not a quantize recipe.
    const wrong = slimnet(['quantize', join(TRAINED, 'resnet_bn.onnx'), '-o', join(dir, 'w.onnx'), '--recipe', join(dir, 'prune.recipe.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/is a prune recipe: replay it with slimnet prune --recipe/);
  });
});
