/**
 * Analytic bias correction: input means from the BatchNorm before each layer (no data), checked
 * against numerical integration, and on the depthwise fixture with per-tensor weights, where it
 * lowers the logit error of static int8 and replays from its decisions byte for byte.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { clippedNormalMean } from '../../src/quantize/static/recovery/analytic-means.js';
import { quantizeRecipe, readRecipe, replayOptions } from '../../src/recipe/quantize-recipe.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { relativeError, runClassifier } from './accuracy.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST = join(FIXTURES, 'data', 'fmnist_test.npz');

/** E[clip(Y, lo, hi)], Y ~ N(m, s^2), by the midpoint rule over +-10 s. */
function integrated(m: number, s: number, lo: number, hi: number): number {
  const steps = 200000;
  const h = (20 * s) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    const y = m - 10 * s + (i + 0.5) * h;
    sum += Math.min(hi, Math.max(lo, y)) * Math.exp(-0.5 * ((y - m) / s) ** 2);
  }
  return (sum * h) / (s * Math.sqrt(2 * Math.PI));
}

describe('analytic bias correction', () => {
  it('computes the mean of a ReLU / ReLU6 / unclipped normal', () => {
    for (const [m, s, lo, hi] of [[0, 1, 0, Infinity], [-1.5, 0.7, 0, Infinity], [2, 3, 0, 6], [5.5, 1, 0, 6], [0.3, 2, -Infinity, Infinity]] as const) {
      expect(clippedNormalMean(m, s, lo, hi)).toBeCloseTo(integrated(m, s, lo, hi), 5);
    }
    expect(clippedNormalMean(-2, 0, 0, 6)).toBe(0);
  });

  it('lowers the logit error on the depthwise fixture with per-tensor weights, without data for the means; the decisions replay byte for byte', async () => {
    const model = loadModel(join(TRAINED, 'mobilenet_dw.onnx'));
    const base = { calibration: CALIB, engine, placement: 'full' as const, perChannel: false, equalization: 'on' as const, speedCheck: false };
    const plain = await quantizeStatic(model, { ...base, biasCorrection: 'off' });
    const analytic = await quantizeStatic(model, { ...base, biasCorrection: 'analytic' });
    expect(analytic.decisions.recovery!.biasCorrection).toBe('analytic');
    expect(analytic.plan.notes.join('\n')).toMatch(/analytic bias correction: input means of \d+ of \d+ layer/);
    const float = await runClassifier(engine, model, TEST, { limit: 500 });
    const ePlain = relativeError((await runClassifier(engine, plain.model, TEST, { limit: 500 })).logits, float.logits);
    const eAnalytic = relativeError((await runClassifier(engine, analytic.model, TEST, { limit: 500 })).logits, float.logits);
    expect(eAnalytic).toBeLessThan(ePlain);
    // The recipe (JSON, through its validation) replays the means without recomputing them.
    const path = join(tmpdir(), `slimnet-analytic-bias-${process.pid}.json`);
    writeFileSync(path, JSON.stringify(quantizeRecipe(model, { ...base, biasCorrection: 'analytic' }, analytic)));
    const replay = await quantizeStatic(model, { ...replayOptions(readRecipe(path)), engine, speedCheck: false });
    rmSync(path);
    expect(Buffer.from(modelToBytes(replay.model)).equals(Buffer.from(modelToBytes(analytic.model)))).toBe(true);
  });
});
