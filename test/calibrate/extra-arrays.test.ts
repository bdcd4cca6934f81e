/**
 * Data as people keep it: an npz written by numpy with texts ('<U34'), ids, a 0-d string, an
 * object array and metadata of another length beside the input and the labels
 * (fixtures/data/extra_arrays.py). Only the arrays the model takes are read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const EXTRA = join(FIXTURES, 'data', 'fmnist_extra.npz');
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

describe('npz with arrays beside the inputs', () => {
  it('is refused when every array is read (the arrays really are unreadable)', () => {
    expect(() => new NpzDataset(EXTRA)).toThrow(/fmnist_extra\.npz:text: dtype '<U34' is not supported/);
  });

  it('calibrates: the texts, ids and metadata are named in a note, not read', async () => {
    const model = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const r = await calibrate(model, EXTRA, { engine });
    expect(r.samples).toBe(100);
    expect(r.ranges.get('input')!.max).toBeGreaterThan(1);
    const note = r.notes.find((n) => n.includes('ignored arrays'));
    expect(note).toMatch(/text, ids, split, meta, mean/);
  });

  it('evaluates with its labels', async () => {
    const model = join(TRAINED, 'resnet_bn.onnx');
    const r = await evaluate(model, model, EXTRA, { engine });
    expect(r.samples).toBe(100);
    expect(r.reference.scores.top1).toBeGreaterThan(0.7);
    expect(r.primary).toMatchObject({ name: 'top1', drop: 0 });
    expect(r.notes.some((n) => /ignored arrays.*text/.test(n))).toBe(true);
  });
});
