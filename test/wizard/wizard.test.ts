/**
 * The wizard through ink-testing-library: frames and keystrokes, one full dynamic quantization of
 * a fixture model on the real runtime, cancelling a run, and the errors it shows. The written
 * model is compared byte for byte with what the command line the wizard prints writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';
import { loadModel } from '../../src/onnx/io.js';
import { KEY, unsetCi, unwrap, waitFor } from './frames.js';

unsetCi();
const { render } = await import('ink-testing-library');
const { App } = await import('../../cli/wizard/app.js');

const VIT = join(TRAINED, 'vit_tiny.onnx');
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');
const CALIB_SET = join(FIXTURES, 'data', 'fmnist_calib.npz');
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'slimnet-wizard-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pause = (ms = 60) => new Promise((r) => setTimeout(r, ms));

function start() {
  const exits: number[] = [];
  const app = render(createElement(App, { onExit: (code: number) => { exits.push(code); } }));
  const type = async (...keys: string[]) => { for (const k of keys) { app.stdin.write(k); await pause(); } };
  const frame = (re: RegExp, ms?: number) => waitFor(app.lastFrame, re, ms);
  return { app, exits, type, frame };
}

/** Model, goal dynamic, evaluation data: up to the review screen. */
async function toReview(w: ReturnType<typeof start>, evalData: string): Promise<void> {
  await w.frame(/Which ONNX model\?/);
  await w.type(join(TRAINED, 'vit_t'), KEY.tab);
  await w.frame(/vit_tiny\.onnx/);
  await w.type(KEY.enter);
  await w.frame(/Continue with this model/);
  await w.type(KEY.enter);
  await w.frame(/What should the result be\?/);
  await w.type(KEY.down, KEY.down, KEY.down);
  await w.frame(/> Dynamic int8/);
  await w.type(KEY.enter);
  await w.frame(/Evaluation data/);
  await w.type(KEY.enter);
  await w.type(evalData, KEY.enter);
}

/** From the review: output `out`, Run, then Ctrl-C during the run; the wizard must exit 130. */
async function runThenCancel(w: ReturnType<typeof start>, out: string): Promise<void> {
  await w.frame(/step 4\/6: Review/);
  await w.type(KEY.down, KEY.enter, KEY.ctrlU, out, KEY.enter);
  await w.frame(/> Run/);
  await w.type(KEY.enter);
  await w.frame(/step 5\/6: Run/);
  await w.type(KEY.ctrlC);
  const end = Date.now() + 60_000;
  while (w.exits.length === 0 && Date.now() < end) await pause(100);
  expect(w.exits).toEqual([130]);
  w.app.unmount();
}

describe('the wizard (ink-testing-library)', () => {
  it('runs one full dynamic quantization, and prints the command that writes the same bytes', async () => {
    const w = start();
    await w.frame(/step 1\/6: Model/);
    // A missing model is one line in red, and the input stays.
    await w.type(join(dir, 'missing.onnx'), KEY.enter);
    expect(await w.frame(/x .*missing\.onnx/)).toMatch(/Which ONNX model\?/);
    await w.type(KEY.ctrlU);
    await w.type(join(TRAINED, 'vit_t'), KEY.tab);
    await w.frame(/vit_tiny\.onnx/);
    await w.type(KEY.enter);
    const summary = await w.frame(/Continue with this model/);
    expect(summary).toMatch(/151 nodes/);
    expect(summary).toMatch(/in {3}input: float32\[batch,1,28,28\]/);
    expect(summary).toMatch(/quantizable {2}.*MatMul 24/);
    await w.type(KEY.enter);
    await w.frame(/What should the result be\?/);
    await w.type(KEY.down, KEY.down, KEY.down);
    await w.frame(/> Dynamic int8/);
    await w.type(KEY.enter);
    // Dynamic needs no calibration: straight to the evaluation data; random data warns first.
    await w.frame(/Evaluation data/);
    await w.type(KEY.down, KEY.enter);
    expect(await w.frame(/Random data: every step runs/)).toMatch(/accuracy of the result is unknown/);
    await w.type(KEY.down, KEY.enter);
    await w.type(join(dir, 'nothing.npz'), KEY.enter);
    await w.frame(/x .*nothing\.npz/);
    await w.type(KEY.ctrlU, TEST_SET, KEY.enter);
    const review = await w.frame(/step 4\/6: Review/);
    for (const setting of ['mode', 'format', 'weights', 'evaluation', 'output']) expect(review).toMatch(new RegExp(`^${setting} +\\S.* \\S`, 'm'));
    expect(review).toMatch(/dynamic int8 +activations quantized at run time/);
    const out = join(dir, 'vit.dyn.onnx');
    await w.type(KEY.down, KEY.enter);
    await w.frame(/Output path:/);
    await w.type(KEY.ctrlU, out, KEY.enter);
    await w.frame(/> Run/);
    await w.type(KEY.enter);
    await w.frame(/step 5\/6: Run/);
    const result = await w.frame(/step 6\/6: Result/, 180_000);
    expect(result).toMatch(/size +\d.*KiB +\d.*KiB +0\.\d\dx/);
    expect(result).toMatch(/top1 +\d+\.\d\d % +\d+\.\d\d %/);
    expect(result).toMatch(/latency p50 +\d+\.\d\d ms +\d+\.\d\d ms/);
    expect(result).toMatch(/Written: .*vit\.dyn\.onnx/);
    // Every goal saves its recipe (and the lock beside it); the command then names it.
    expect(result).toMatch(/> Save the recipe to .*vit\.dyn\.recipe\.json/);
    await w.type(KEY.enter);
    const saved = await w.frame(/Recipe: .*vit\.dyn\.recipe\.json/);
    const recipe = join(dir, 'vit.dyn.recipe.json');
    const command = unwrap(saved).match(/Same from the CLI: (slimnet quantize .*?\.recipe\.json)/)?.[1];
    expect(command).toBe(`slimnet quantize ${VIT} -o ${out} --mode dynamic --save-recipe ${recipe}`);
    await w.type(KEY.enter);
    expect(w.exits).toEqual([0]);
    w.app.unmount();

    expect(loadModel(out).graph.nodes.map((n) => n.opType)).toContain('DynamicQuantizeMatMul');
    expect(JSON.parse(readFileSync(join(dir, 'vit.dyn.recipe.lock.json'), 'utf8')).data.evalData.path).toBe(TEST_SET);
    // The recipe replays to the same bytes.
    const replay = join(dir, 'replay.dyn.onnx');
    const rr = slimnet(['quantize', VIT, '-o', replay, '--recipe', recipe, '--locked']);
    expect(rr.code, rr.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(replay))).toBe(0);
    // The printed command, run as printed (to other files), writes the same bytes.
    const again = join(dir, 'cli.dyn.onnx');
    const args = command!.split(' ').slice(1).map((a) => (a === out ? again : a === recipe ? join(dir, 'cli.recipe.json') : a));
    const r = slimnet(args);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(again))).toBe(0);
  });

  it('prunes channels with calibration data through the same API, saves the recipe, and the recipe replays byte for byte', async () => {
    const w = start();
    const model = join(TRAINED, 'resnet_bn.onnx');
    await w.type(model, KEY.enter);
    await w.frame(/Continue with this model/);
    await w.type(KEY.enter);
    await w.frame(/What should the result be\?/);
    await w.type(KEY.down, KEY.down, KEY.down, KEY.down, KEY.down, KEY.down);
    await w.frame(/> Prune/);
    await w.type(KEY.enter);
    await w.frame(/How should the model be pruned\?/);
    await w.type(KEY.enter); // Channels
    await w.frame(/Share of the channels to remove/);
    await w.type(KEY.ctrlU, '150%', KEY.enter);
    await w.frame(/x the sparsity must be a fraction/);
    await w.type(KEY.ctrlU, '25%', KEY.enter);
    expect(await w.frame(/Calibration data: the activations pruning weighs/)).toMatch(/No data/);
    await w.type(KEY.enter);
    await w.frame(/data\.npz/); // the path prompt is up: keys typed before it would be lost on a loaded machine
    await w.type(CALIB_SET, KEY.enter);
    await w.frame(/Evaluation data/, 60_000);
    await w.type(KEY.down, KEY.down, KEY.enter); // no evaluation data
    const review = await w.frame(/step 4\/6: Review/);
    expect(review).toMatch(/mode +prune: channel +whole channels cut/);
    expect(review).toMatch(/sparsity +25%/);
    const out = join(dir, 'resnet.pruned.onnx');
    await w.type(KEY.down, KEY.enter, KEY.ctrlU, out, KEY.enter);
    await w.frame(/> Run/);
    await w.type(KEY.enter);
    expect(await w.frame(/step 5\/6: Run/)).toMatch(/prune/);
    const result = await w.frame(/step 6\/6: Result/, 180_000);
    expect(result).toMatch(/cut \d+ channel groups; weights \d+ -> \d+ non-zero/);
    expect(result).toMatch(/size +\d.*KiB +\d.*KiB +0\.\d\dx/);
    await w.type(KEY.enter); // save the recipe
    const saved = await w.frame(/Recipe: .*resnet\.pruned\.recipe\.json/);
    const recipe = join(dir, 'resnet.pruned.recipe.json');
    expect(unwrap(saved)).toContain(`slimnet prune ${model} -o ${out} --method channel --sparsity 0.25 --calib ${CALIB_SET} --save-recipe ${recipe}`);
    await w.type(KEY.enter);
    expect(w.exits).toEqual([0]);
    w.app.unmount();
    const replay = join(dir, 'replay.pruned.onnx');
    const r = slimnet(['prune', model, '-o', replay, '--recipe', recipe, '--locked', '--no-latency']);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(replay))).toBe(0);
  }, 240_000); // a run, then a replay in a new process: minutes when the machine is loaded

  it('Ctrl-C during the run cancels it: exit 130 and no file written', async () => {
    const w = start();
    const out = join(dir, 'cancelled', 'vit.dyn.onnx');
    rmSync(join(dir, 'cancelled'), { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(join(dir, 'cancelled'));
    await toReview(w, TEST_SET);
    await runThenCancel(w, out);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(join(dir, 'cancelled'))).toEqual([]);
  });

  it('Ctrl-C while pruning cancels it too: exit 130 and no file written', async () => {
    const w = start();
    rmSync(join(dir, 'cancelled-prune'), { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(join(dir, 'cancelled-prune'));
    await w.type(join(TRAINED, 'resnet_bn.onnx'), KEY.enter);
    await w.frame(/Continue with this model/);
    await w.type(KEY.enter);
    await w.frame(/What should the result be\?/);
    await w.type(KEY.up); // the list wraps: the last goal, Prune
    await w.frame(/> Prune/);
    await w.type(KEY.enter, KEY.down); // Magnitude: no data
    await w.frame(/> Magnitude/);
    await w.type(KEY.enter);
    await w.frame(/Share of the weights to zero/);
    await w.type(KEY.enter);
    await w.frame(/Evaluation data/);
    await w.type(KEY.enter);
    await w.frame(/data\.npz/);
    await w.type(TEST_SET, KEY.enter);
    await runThenCancel(w, join(dir, 'cancelled-prune', 'm.onnx'));
    expect(readdirSync(join(dir, 'cancelled-prune'))).toEqual([]);
  });

  it('Esc goes back a step; Ctrl-C outside a run quits with 130', async () => {
    const w = start();
    await w.type(VIT, KEY.enter);
    await w.frame(/Continue with this model/);
    await w.type(KEY.enter);
    await w.frame(/What should the result be\?/);
    await w.type(KEY.esc);
    await w.frame(/step 1\/6: Model/);
    await w.type(KEY.ctrlC);
    expect(w.exits).toEqual([130]);
    w.app.unmount();
  });
});
