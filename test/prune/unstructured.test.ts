/** Unstructured and N:M pruning on small graphs with known answers and on the trained fixtures, through ONNX Runtime. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { prune } from '../../src/prune/prune.js';
import { Engine } from '../../src/runtime/engine.js';
import { loadModel } from '../../src/onnx/io.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { Node } from '../../src/ir/node.js';
import { AttrType } from '../../src/ir/attribute.js';
import { encodeFloat16 } from '../../src/ir/float-formats.js';
import { ArrayDataset } from '../../src/calibrate/data/array-dataset.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { OptionError } from '../../src/errors.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { convChain, images } from './graphs.js';

const engine = new Engine();
afterAll(() => engine.close());
const calib = join(FIXTURES, 'data', 'fmnist_calib.npz');
const test = join(FIXTURES, 'data', 'fmnist_test.npz');

const weight = (m: ReturnType<typeof convChain>, name: string) => m.graph.initializers.get(name)!.constValue!;

describe('magnitude', () => {
  it('keeps exactly the largest weights of each layer and leaves the first and last layers dense', async () => {
    const mid = new Rng(9).normals(576, 0.2);
    const model = convChain(1, mid);
    const r = await prune(model, { sparsity: 0.5, engine });
    const w = weight(r.model, 'mid_w').toFloat32();
    const threshold = Float32Array.from(mid, Math.abs).sort()[288]!;
    for (let i = 0; i < 576; i++) expect(w[i]).toBe(Math.abs(mid[i]!) >= threshold ? mid[i] : 0);
    expect(r.summary.layers.map((l) => l.node)).toHaveLength(2);
    expect(r.summary.layers.every((l) => Math.abs(l.sparsity - 0.5) < 0.01)).toBe(true);
    expect(r.summary.notes[0]).toMatch(/first and last weighted layers left dense by default/);
    expect(weight(r.model, 'fc_w').toFloat32().every((v) => v !== 0)).toBe(true);
    // The input model is untouched, the output runs.
    expect(weight(model, 'mid_w').toFloat32()).toEqual(mid);
    const s = await engine.createSession(r.model);
    expect(Object.values(await s.run(images(2, 3, 8, 1)))[0]!.dims).toEqual([2, 5]);
    await s.release();
  });

  it('prunes weights held in Constant nodes and behind a Cast from float16, keeping float16', async () => {
    const model = convChain(1);
    const g = model.graph;
    const mid = g.nodes.find((n) => n.name === 'mid')!;
    const values = Float32Array.from(weight(model, 'mid_w').toFloat32());
    const half = Tensor.fromTyped(DataType.FLOAT16, [8, 8, 3, 3], encodeFloat16(values));
    const constant = new Node('Constant', [], ['mid_w16'], { name: 'mid_const', attributes: [{ name: 'value', type: AttrType.TENSOR, value: half }] });
    const cast = new Node('Cast', [constant.outputs[0]!], ['mid_w32'], { name: 'mid_cast', attributes: { to: DataType.FLOAT } });
    g.insertBefore(mid, constant, cast);
    mid.replaceInput(1, cast.outputs[0]!);
    g.removeInitializer(g.initializers.get('mid_w')!);
    const r = await prune(model, { sparsity: 0.75, engine });
    const stored = r.model.graph.initializers.get('mid_w16')!.constValue!;
    expect(stored.dataType).toBe(DataType.FLOAT16);
    const z = stored.toFloat32().filter((v) => v === 0).length;
    expect(z).toBe(432);
    const s = await engine.createSession(r.model);
    await s.run(images(1, 3, 8, 2));
    await s.release();
  });

  it('N:M: every group of M input channels at each kernel tap keeps N, and the model runs', async () => {
    const r = await prune(convChain(1), { pattern: '2:4', engine });
    const w = weight(r.model, 'mid_w').toFloat32(); // [8, 8, 3, 3]
    for (let o = 0; o < 8; o++) for (let tap = 0; tap < 9; tap++) for (let c0 = 0; c0 < 8; c0 += 4) {
      expect([0, 1, 2, 3].filter((k) => w[(o * 8 + c0 + k) * 9 + tap] !== 0).length).toBe(2);
    }
    expect(r.summary.hardware).toMatch(/NVIDIA sparse tensor cores/);
    const s = await engine.createSession(r.model);
    await s.run(images(1, 3, 8, 3));
    await s.release();
  });

  it('refuses contradictory options with the flag named', async () => {
    await expect(prune(convChain(1), { pattern: '2:4', sparsity: 0.3 })).rejects.toThrow(/--pattern 2:4 fixes the sparsity at 0.5/);
    await expect(prune(convChain(1), { sparsity: 0.5, method: 'wanda' })).rejects.toThrow(OptionError);
    await expect(prune(convChain(1), { sparsity: 1.5 })).rejects.toThrow(/--sparsity must be a fraction/);
    await expect(prune(convChain(1), { pattern: '4:2' })).rejects.toThrow(/--pattern 4:2/);
    await expect(prune(convChain(1), { sparsity: 0.5, maxDrop: 1 })).rejects.toThrow(/--max-drop needs data to measure the drop on/);
    await expect(prune(convChain(1), { sparsity: 0.5, scope: 'sensitivity' })).rejects.toThrow(/--scope sensitivity needs calibration data/);
    await expect(prune(convChain(1), { sparsity: 0.5, dampPercent: 0.05 })).rejects.toThrow(/--damp-percent applies to --method sparsegpt only/);
    await expect(prune(convChain(1), { sparsity: 0.5, calibSize: 16 })).rejects.toThrow(/--calib-size needs --calib/);
    await expect(prune(convChain(1), { sparsity: 0.5, evalSize: 16 })).rejects.toThrow(/--eval-size needs --eval-data/);
  });
});

describe('Wanda', () => {
  it('keeps a small weight on a loud input that magnitude removes', async () => {
    // y = x W: input feature 0 is 100x louder than the others; its weights are the smallest.
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['n', 4]);
    const w = Float32Array.from([0.1, 0.1, 0.1, 1, 2, 3, 1.5, 2.5, 3.5, 1.2, 2.2, 3.2]); // [4, 3]
    b.output(b.op('MatMul', [x, b.floats('w', [4, 3], w)], {}, { name: 'mm' }));
    const model = b.build();
    const rng = new Rng(3);
    const data = new Float32Array(64 * 4).map((_, i) => rng.normal() * (i % 4 === 0 ? 100 : 1));
    const calibration = new ArrayDataset('memory', { x: { type: 'float32', dims: [64, 4], data } });
    const get = (m: typeof model) => m.graph.initializers.get('w')!.constValue!.toFloat32();
    const mag = await prune(model, { sparsity: 0.25, includeFirstLast: true, engine });
    const wanda = await prune(model, { sparsity: 0.25, method: 'wanda', calibration, includeFirstLast: true, engine });
    expect([...get(mag.model).slice(0, 3)]).toEqual([0, 0, 0]);
    expect([...get(wanda.model).slice(0, 3)].every((v) => v !== 0)).toBe(true);
    // Each output (column) loses exactly one weight, the one on the quietest feature for its size.
    for (let n = 0; n < 3; n++) expect([0, 1, 2, 3].filter((k) => get(wanda.model)[k * 3 + n] === 0).length).toBe(1);
  });
});

describe('trained fixtures at 50% unstructured sparsity', () => {
  const top1 = async (reference: string, candidate: ReturnType<typeof loadModel>) => (await evaluate(reference, candidate, test, { engine, limit: 600 })).primary!;
  for (const name of ['resnet_bn', 'mobilenet_dw', 'vit_tiny']) {
    it(`${name}: SparseGPT loses less top-1 than magnitude`, async () => {
      const path = join(TRAINED, `${name}.onnx`);
      const model = loadModel(path);
      const mag = await prune(model, { sparsity: 0.5, engine });
      const sg = await prune(model, { sparsity: 0.5, method: 'sparsegpt', calibration: calib, calibSize: 64, engine });
      expect(sg.summary.achieved.prunedLayers).toBeCloseTo(0.5, 2);
      const [a, b] = [await top1(path, mag.model), await top1(path, sg.model)];
      expect(b.drop).toBeLessThan(a.drop);
    });
  }

  it('global and sensitivity scopes spread the same total unevenly; sensitivity costs no more than uniform', async () => {
    const path = join(TRAINED, 'mobilenet_dw.onnx');
    const model = loadModel(path);
    const uniform = await prune(model, { sparsity: 0.5, engine });
    const global = await prune(model, { sparsity: 0.5, scope: 'global', engine });
    const sens = await prune(model, { sparsity: 0.5, scope: 'sensitivity', calibration: calib, calibSize: 32, engine });
    for (const r of [global, sens]) {
      const zeros = r.summary.layers.reduce((s, l) => s + l.zeros, 0);
      const params = r.summary.layers.reduce((s, l) => s + l.params, 0);
      expect(zeros / params).toBeCloseTo(0.5, 2);
      const fractions = r.summary.layers.map((l) => l.sparsity);
      expect(Math.max(...fractions) - Math.min(...fractions)).toBeGreaterThan(0.2);
    }
    const [u, s] = [await top1(path, uniform.model), await top1(path, sens.model)];
    expect(s.drop).toBeLessThanOrEqual(u.drop);
  });

  it('--max-drop: the largest sparsity tried within the budget, measured on labelled data', async () => {
    const r = await prune(loadModel(join(TRAINED, 'resnet_bn.onnx')), { sparsity: 0.9, maxDrop: 1, evalData: test, evalSize: 500, engine });
    const ok = r.summary.search!.filter((t) => t.withinBudget);
    expect(r.summary.search!.length).toBeGreaterThan(1);
    expect(r.summary.search!.every((t) => t.metric === 'top1')).toBe(true);
    expect(ok.length).toBeGreaterThan(0);
    expect(r.summary.sparsity).toBe(Math.max(...ok.map((t) => t.sparsity)));
    expect(r.summary.search!.filter((t) => !t.withinBudget).every((t) => t.sparsity > r.summary.sparsity)).toBe(true);
  });
});
