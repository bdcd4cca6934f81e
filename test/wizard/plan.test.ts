/** The wizard's plan (no terminal): modes per goal, review lines, the command line, random data. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { TRAINED, SYNTHETIC } from '../helpers.js';
import { defaultOutput, makePlan, matmulWeightShare, modeFor, shellQuote } from '../../cli/wizard/plan.js';
import { randomData } from '../../cli/wizard/random-data.js';
import { completePath } from '../../cli/wizard/ui/complete.js';
import { color } from '../../cli/wizard/ui/color.js';
import type { WizardChoices } from '../../cli/wizard/choices.js';

const resnet = loadModel(join(TRAINED, 'resnet_bn.onnx'));
const transformer = loadModel(join(SYNTHETIC, 'transformer_block.onnx'));

const choices = (over: Partial<WizardChoices>): WizardChoices => ({
  modelPath: 'm.onnx', goal: 'static', calibration: { kind: 'none' }, evaluation: { kind: 'none' }, maxDrop: 1, prune: { method: 'channel', sparsity: 0.3 }, output: 'm.int8.onnx', ...over,
});

describe('wizard plan', () => {
  it('maps goals to modes; smallest follows where the weights are', () => {
    expect(matmulWeightShare(resnet)).toBeLessThan(0.5);
    expect(matmulWeightShare(transformer)).toBeGreaterThan(0.5);
    expect(modeFor('smallest', resnet)).toBe('static');
    expect(modeFor('smallest', transformer)).toBe('weight-only');
    expect(modeFor('budget', transformer)).toBe('static');
    expect(modeFor('fp16', resnet)).toBe('fp16');
    expect(modeFor('prune', resnet)).toBe('prune');
  });

  it('plans a prune goal: calibration only for the methods that use it, the slimnet prune command', () => {
    const wanda = makePlan(choices({ goal: 'prune', prune: { method: 'wanda', sparsity: 0.5 }, calibration: { kind: 'file', path: 'c.npz' }, output: 'm.pruned.onnx' }), resnet);
    expect(wanda.mode).toBe('prune');
    expect(wanda.command).toBe('slimnet prune m.onnx -o m.pruned.onnx --method wanda --sparsity 0.5 --calib c.npz');
    expect(wanda.review.map((l) => l.setting)).toContain('calibration');
    const magnitude = makePlan(choices({ goal: 'prune', prune: { method: 'magnitude', sparsity: 0.5 }, calibration: { kind: 'file', path: 'c.npz' } }), resnet);
    expect(magnitude.command).not.toContain('--calib');
    expect(magnitude.review.map((l) => l.setting)).not.toContain('calibration');
    const random = makePlan(choices({ goal: 'prune', calibration: { kind: 'random' } }), resnet);
    expect(random.commandNote).toMatch(/no random data/);
    expect(defaultOutput('dir/m.onnx', 'prune')).toBe(join('dir', 'm.pruned.onnx'));
  });

  it('explains every setting in one line that fits 80 columns', () => {
    for (const goal of ['budget', 'smallest', 'static', 'dynamic', 'weight-only', 'fp16', 'prune'] as const) {
      const plan = makePlan(choices({ goal, calibration: { kind: 'file', path: 'c.npz' }, evaluation: { kind: 'file', path: 't.npz' } }), resnet);
      for (const l of plan.review) {
        expect(l.why.length, `${goal} ${l.setting}`).toBeGreaterThan(10);
        expect(14 + 1 + 22 + 1 + l.why.length, `${goal} ${l.setting}: ${l.why}`).toBeLessThanOrEqual(80);
        // Paths are shortened on screen; every other value fits its 22 columns whole.
        if (!['model', 'calibration', 'evaluation', 'output'].includes(l.setting)) expect(l.value.length, `${goal} ${l.setting}: ${l.value}`).toBeLessThanOrEqual(22);
      }
      expect(new Set(plan.review.map((l) => l.setting)).size).toBe(plan.review.length);
    }
  });

  it('prints the equivalent command, quoted for a shell', () => {
    const budget = makePlan(choices({ goal: 'budget', modelPath: 'my model.onnx', calibration: { kind: 'file', path: 'c.npz' }, evaluation: { kind: 'file', path: 't.npz' }, maxDrop: 0.5 }), resnet, { recipe: 'r.json' });
    expect(budget.command).toBe("slimnet quantize 'my model.onnx' -o m.int8.onnx --calib c.npz --max-drop 0.5 --eval-data t.npz --eval-limit 500 --save-recipe r.json");
    expect(makePlan(choices({ goal: 'dynamic', output: 'm.dyn.onnx' }), resnet).command).toBe('slimnet quantize m.onnx -o m.dyn.onnx --mode dynamic');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('warns about random data, and says the CLI needs a data file for it', () => {
    const plan = makePlan(choices({ calibration: { kind: 'random' } }), resnet);
    expect(plan.warnings.join()).toMatch(/accuracy is unknown/);
    expect(plan.commandNote).toMatch(/--calib/);
    expect(makePlan(choices({ goal: 'dynamic' }), resnet).warnings).toEqual([]);
  });

  it('names outputs after the mode, next to the model', () => {
    expect(defaultOutput('dir/m.onnx', 'weight-only')).toBe('dir/m.int4.onnx');
    expect(defaultOutput('m.onnx', 'static')).toBe('m.int8.onnx');
  });

  it('makes random data shaped like the inputs, the same every time; refuses what it cannot shape', () => {
    const a = randomData(resnet, 4);
    expect(a).toHaveLength(4);
    expect(a[0]!['input']!.dims).toEqual([1, 1, 28, 28]);
    expect(randomData(resnet, 4)[3]!['input']!.data).toEqual(a[3]!['input']!.data);
    const lstm = loadModel(join(SYNTHETIC, 'lstm.onnx'));
    const ints = lstm.graph.inputs.some((i) => i.elemType !== 1);
    if (ints) expect(() => randomData(lstm)).toThrow(/float32 inputs only/);
  });

  it('completes paths to the common prefix, listing the choices', () => {
    const c = completePath(join(TRAINED, 'resnet_b'));
    expect(c.value).toBe(join(TRAINED, 'resnet_bn'));
    expect(c.matches).toEqual(['resnet_bn.onnx', 'resnet_bn_opset11.onnx']);
    expect(completePath(join(TRAINED, 'vit_')).value).toBe(join(TRAINED, 'vit_tiny.onnx'));
    expect(completePath(join(TRAINED, 'syn')).value).toBe(`${join(TRAINED, 'synthetic')}/`);
    expect(completePath('/no/such/dir/x')).toEqual({ value: '/no/such/dir/x', matches: [] });
  });

  it('uses no colour when NO_COLOR is set', () => {
    const saved = process.env['NO_COLOR'];
    process.env['NO_COLOR'] = '1';
    expect(color('error')).toBeUndefined();
    delete process.env['NO_COLOR'];
    expect(color('error')).toBe('red');
    if (saved !== undefined) process.env['NO_COLOR'] = saved;
  });
});
