/** --max-drop: the accuracy budget on a trained fixture, its report, the exit code when missed, and recipes. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { DropEvaluator } from '../../src/eval/drop-evaluator.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { OptionError } from '../../src/errors.js';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'slimnet-budget-'));
afterAll(async () => { await engine.close(); rmSync(dir, { recursive: true, force: true }); });
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST = join(FIXTURES, 'data', 'fmnist_test.npz');
const RESNET = join(TRAINED, 'resnet_bn.onnx');

describe('accuracy budget', () => {
  it('measures drops the way slimnet eval does, for every metric', async () => {
    const fp = loadModel(RESNET);
    const q = (await quantizeStatic(fp, { calibration: CALIB, placement: 'full', engine })).model;
    const top1 = await DropEvaluator.create(fp, TEST, { engine, limit: 300 });
    expect(top1.metricName).toBe('top1');
    const e = await evaluate(fp, q, TEST, { engine, limit: 300 });
    expect((await top1.evaluate(q)).drop).toBe(e.primary!.drop);
    const agreement = await DropEvaluator.create(fp, TEST, { engine, limit: 300, metric: 'agreement' });
    expect((await agreement.evaluate(q)).drop).toBeCloseTo((1 - e.outputs[0]!.agreement!) * 100, 9);
    expect((await agreement.evaluate(fp)).drop).toBe(0);
    const sqnr = await DropEvaluator.create(fp, TEST, { engine, limit: 300, metric: 'sqnr' });
    expect((await sqnr.evaluate(q)).drop).toBeCloseTo(100 * 10 ** (-e.outputs[0]!.sqnrDb / 20), 6);
  });

  it('keeps the most harmful layers in float until the drop fits, with the same decisions run to run', async () => {
    const m = loadModel(RESNET);
    const run = () => quantizeStatic(m, { calibration: CALIB, maxDrop: 0.1, evalData: TEST, evalLimit: 500, metric: 'agreement', engine });
    const [a, b] = [await run(), await run()];
    const ba = a.budget!;
    expect(ba.stop).toBe('budget met');
    expect(ba.variants.find((x) => x.label === ba.chosen)!.drop).toBeLessThanOrEqual(0.1);
    // Bounded: the profiles, a bisection per profile over budget, and float compute.
    expect(ba.evaluations).toBeLessThanOrEqual(16);
    // The accuracy side of the search is deterministic: same variants, same drops.
    expect(b.budget!.variants.map((x) => [x.label, x.drop])).toEqual(ba.variants.map((x) => [x.label, x.drop]));
    if (ba.keptFloat.length) expect(a.plan.notes.join('\n')).toMatch(/kept in float: /);
    // Every variant tried is kept with its drop and size, the ones inside the budget timed.
    for (const x of ba.variants) {
      expect(x.sizeBytes).toBeGreaterThan(0);
      if (x.withinBudget && x.label !== 'storage') expect(x.latencyRatio).toBeGreaterThan(0);
    }
  });

  it('asks for what it needs and refuses what contradicts it', async () => {
    const m = loadModel(RESNET);
    await expect(quantizeStatic(m, { calibration: CALIB, maxDrop: 0.5, engine })).rejects.toThrow(/--max-drop needs evaluation data .*--eval-data/);
    await expect(quantizeStatic(m, { calibration: CALIB, maxDrop: 0.5, evalData: TEST, placement: 'full', engine })).rejects.toThrow(OptionError);
    await expect(quantizeStatic(m, { calibration: CALIB, prefer: 'size', engine })).rejects.toThrow(/--prefer only applies with --max-drop/);
    await expect(quantizeStatic(m, { calibration: CALIB, maxDrop: 0.5, evalData: TEST, fallback: 'fp16' as never, engine })).rejects.toThrow(/--fallback fp16: only 'float'/);
    await expect(quantizeStatic(m, { calibration: CALIB, maxDrop: 0.5, evalData: join(FIXTURES, 'data', 'fmnist_calib.npz'), metric: 'f1', engine })).rejects.toThrow(/--metric must be one of top1, agreement, sqnr or a metric module/);
  });

  it('CLI: exit 11 with the most accurate model written when nothing fits; the HTML report plots the variants; a recipe replays byte for byte', () => {
    const out = join(dir, 'missed.onnx');
    const html = join(dir, 'missed.html');
    const recipe = join(dir, 'missed.recipe.json');
    const r = slimnet(['quantize', RESNET, '-o', out, '--calib', CALIB, '--max-drop', '0', '--metric', 'sqnr', '--eval-data', TEST, '--eval-limit', '200', '--report', html, '--save-recipe', recipe]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(11);
    expect(r.stdout).toMatch(/Accuracy budget: sqnr drop <= 0 % RMS error, prefer speed: impossible/);
    expect(r.stdout).toMatch(/no variant stays within 0 % RMS error .* kept the most accurate/);
    expect(existsSync(out)).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<svg /);
    expect(page).toMatch(/Accuracy budget: impossible/);
    const again = join(dir, 'replayed.onnx');
    const replay = slimnet(['quantize', RESNET, '-o', again, '--recipe', recipe]);
    expect(replay.code).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(again))).toBe(0);
    const bad = slimnet(['quantize', RESNET, '-o', again, '--recipe', recipe, '--format', 'qoperator']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format cannot be combined with --recipe/);
  });
});
