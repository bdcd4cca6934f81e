/** The static planner on graphs built in code: placement, folds, scale sharing, weights, reasons. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Model } from '../../src/ir/model.js';
import { planStatic } from '../../src/quantize/static/planner.js';
import { resolveStaticOptions, type StaticQuantizeOptions } from '../../src/quantize/static/options.js';
import { nameNodes } from '../../src/quantize/static/preprocess.js';
import type { TensorRange } from '../../src/calibrate/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

/** input -> Conv -> Relu -> MaxPool -> Conv -> Flatten -> MatMul -> logits (graph output). */
function net(opset = 17): { model: Model; ranges: Map<string, TensorRange> } {
  const rng = new Rng(7);
  const b = new GraphBuilder({ opset });
  const x = b.input('input', DataType.FLOAT, [1, 3, 8, 8]);
  const c1 = b.op('Conv', [x, b.floats('w1', [4, 3, 3, 3], rng.normals(108, 0.3)), b.floats('b1', [4], rng.normals(4, 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r = b.op('Relu', [c1], {}, { name: 'relu1' });
  const p = b.op('MaxPool', [r], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  const c2 = b.op('Conv', [p, b.floats('w2', [4, 4, 1, 1], rng.normals(16, 0.5)), b.floats('b2', [4], rng.normals(4, 0.1))], {}, { name: 'conv2' });
  const f = b.op('Flatten', [c2], { axis: 1 }, { name: 'flatten' });
  b.output(b.op('MatMul', [f, b.floats('wfc', [64, 10], rng.normals(640, 0.1))], {}, { name: 'fc', outputNames: ['logits'] }));
  const model = b.build();
  nameNodes(model);
  const ranges = new Map<string, TensorRange>([
    ['input', { min: -1, max: 1 }], [c1.name, { min: -2, max: 3 }], [r.name, { min: 0, max: 3 }], [p.name, { min: 0, max: 2.5 }],
    [c2.name, { min: -1.5, max: 1 }], [f.name, { min: -1.5, max: 1 }], ['logits', { min: -5, max: 5 }],
  ]);
  return { model, ranges };
}

const plan = (m: Model, r: Map<string, TensorRange>, o: StaticQuantizeOptions = {}) => planStatic(m, r, resolveStaticOptions({ placement: 'full', ...o }));

describe('static placement', () => {
  it('folds Relu into the Conv output, shares scales through MaxPool and Flatten, keeps a float MatMul output', () => {
    const { model, ranges } = net();
    const p = plan(model, ranges);
    const action = Object.fromEntries(p.nodes.map((n) => [n.node, n.action]));
    expect(action).toEqual({ conv1: 'quantize', relu1: 'fold', pool: 'share', conv2: 'quantize', flatten: 'share', fc: 'quantize' });
    expect(p.nodes.find((n) => n.node === 'fc')!.detail).toMatch(/float output -> MatMulIntegerToFloat/);
    const act = new Map(p.activations.map((a) => [a.tensor, a]));
    const conv1Out = model.graph.nodes.find((n) => n.name === 'conv1')!.output(0).name;
    // The folded tensor takes the Relu's range: zero point 0, so the uint8 Q clamps exactly like Relu.
    expect(act.get(conv1Out)!.params).toEqual({ type: 'uint8', scale: Math.fround(3 / 255), zeroPoint: 0 });
    const poolOut = model.graph.nodes.find((n) => n.name === 'pool')!.output(0).name;
    expect(act.get(poolOut)!.params).toEqual(act.get(conv1Out)!.params);
    expect(act.get(poolOut)!.group).toBe(act.get(conv1Out)!.group);
    expect(act.has('logits')).toBe(false);
    expect(act.get('input')!.readers).toEqual([{ node: 'conv1', input: 0 }]);
  });

  it('quantizes weights per channel on the right axis and biases with scale = input scale x weight scale', () => {
    const { model, ranges } = net();
    const p = plan(model, ranges);
    const w = new Map(p.weights.map((x) => [x.tensor, x]));
    expect(w.get('w1')!.axis).toBe(0);
    expect(w.get('w1')!.scales).toHaveLength(4);
    expect(w.get('wfc')!.axis).toBe(1);
    expect(w.get('wfc')!.scales).toHaveLength(10);
    const bias = p.biases.find((b) => b.tensor === 'b1')!;
    const xs = p.activations.find((a) => a.tensor === 'input')!.params.scale;
    bias.scales.forEach((s, c) => expect(s).toBe(Math.fround(xs * w.get('w1')!.scales[c]!)));
    expect(plan(model, ranges, { perChannel: false }).weights.every((x) => x.axis === null && x.scales.length === 1)).toBe(true);
  });

  it('lists every node left in float with the reason', () => {
    const { model, ranges } = net();
    const byType = plan(model, ranges, { exclude: ['Conv'] });
    expect(byType.nodes.find((n) => n.node === 'conv1')).toMatchObject({ action: 'float', detail: 'excluded by --exclude Conv' });
    expect(byType.nodes.find((n) => n.node === 'relu1')!.action).toBe('float');
    const byGlob = plan(model, ranges, { exclude: ['conv*'] });
    expect(byGlob.nodes.filter((n) => n.detail.startsWith('excluded')).map((n) => n.node)).toEqual(['conv1', 'conv2']);
    const byRegex = plan(model, ranges, { exclude: ['/^fc$/'] });
    expect(byRegex.nodes.find((n) => n.node === 'fc')!.action).toBe('float');
    const symmetric = plan(model, ranges, { symmetricActivations: true, activations: 'int8' });
    expect(symmetric.nodes.find((n) => n.node === 'relu1')).toMatchObject({ action: 'float' });
    expect(symmetric.nodes.find((n) => n.node === 'relu1')!.detail).toMatch(/symmetric/);
  });

  it('refuses ranges that do not match the model, naming the tensor', () => {
    const { model, ranges } = net();
    ranges.delete('input');
    expect(() => plan(model, ranges)).toThrow(/no calibrated range for tensor 'input'/);
  });

  it('uses com.microsoft Q/DQ below the opset the types need', () => {
    expect(plan(net(17).model, net(17).ranges).qdqDomain).toBe('');
    expect(plan(net(11).model, net(11).ranges).qdqDomain).toBe('com.microsoft');
    expect(plan(net(11).model, net(11).ranges, { perChannel: false }).qdqDomain).toBe('');
    expect(plan(net(17).model, net(17).ranges, { activations: 'uint16' }).qdqDomain).toBe('com.microsoft');
    expect(plan(net(21).model, net(21).ranges, { activations: 'uint16' }).qdqDomain).toBe('');
  });

  it('keeps a data-movement op in float when nothing quantized reads it', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 4]);
    const y = b.op('MatMul', [x, b.initializer('w', Tensor.float([4, 4], new Float32Array(16).fill(0.5)))], {}, { name: 'mm' });
    b.output(b.op('Transpose', [y], { perm: [1, 0] }, { name: 't', outputNames: ['out'] }));
    const m = b.build();
    const p = plan(m, new Map([['x', { min: -1, max: 1 }], [y.name, { min: -2, max: 2 }], ['out', { min: -2, max: 2 }]]));
    expect(p.nodes.find((n) => n.node === 't')).toMatchObject({ action: 'float' });
    expect(p.nodes.find((n) => n.node === 'mm')!.detail).toMatch(/float output/);
  });
});
