/** Quantizing on this machine for another one: the target's defaults, and no timing claimed for it. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { resolveTarget } from '../../src/target/resolve.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

describe('a target other than this machine', () => {
  it('static: weights follow the target, the placement is its default, and speed is said not to be measured', async () => {
    const host = await resolveTarget('host', engine);
    const model = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    // One target each way: exact sums where this machine saturates, saturating ones where it is exact.
    for (const target of ['x86-vnni', 'x86-avx2'] as const) {
      if (target === host.name) continue;
      const r = await quantizeStatic(model, { calibration: CALIB, calibSize: 64, target, engine });
      expect(r.target.name).toBe(target);
      expect(r.target.measurable).toBe(false);
      expect(r.settings.target).toBe(target);
      expect(r.speedCheck!.latency).toBeUndefined();
      expect(r.plan.notes[0]).toMatch(new RegExp(`^target ${target} \\(this machine is ${host.name}\\)`));
      expect(r.plan.notes.join('\n')).toMatch(new RegExp(`speed was not measured for ${target} \\(this machine is ${host.name}\\): placement 'full' is the target's default`));
      const stores = new Set(r.plan.weights.map((w) => w.encoding));
      if (target === 'x86-vnni') expect([...stores]).toEqual(['int8']);
      else expect([...stores].every((e) => e === 'int8-safe' || e === 'uint8')).toBe(true);
    }
  });

  it('dynamic: an explicit target decides the weights whatever this machine is', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const exact = await quantizeDynamic(vit, { target: 'x86-vnni', engine });
    expect(exact.summary.quantized.filter((d) => /^int8 per-channel weights \[/.test(d.detail))).toHaveLength(17);
    const avx2 = await quantizeDynamic(vit, { target: 'x86-avx2', engine });
    expect(avx2.settings.target).toBe('x86-avx2');
    expect(avx2.summary.quantized.filter((d) => /exact without VNNI/.test(d.detail))).toHaveLength(17);
    expect(avx2.summary.notes!.join()).toMatch(/^target x86-avx2 .*17 op\(s\) with uint8 weights/);
    // Forcing plain int8 on a saturating target is allowed, and warned about.
    const forced = await quantizeDynamic(vit, { target: 'x86-avx2', weights: 'int8', engine });
    expect(forced.summary.warnings.join()).toMatch(/op\(s\) keep plain int8 weights .* can saturate in the int16 sums of x86-avx2's kernels/);
  });
});
