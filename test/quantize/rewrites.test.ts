/** Exact model rewrites used by static quantization: the stem rewrite and the opset-10 upgrade. */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { cloneModel } from '../../src/ir/clone.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { Engine } from '../../src/runtime/engine.js';
import { rewriteStems } from '../../src/quantize/static/stem-rewrite.js';
import { upgradeOpsetTo10 } from '../../src/ir/passes/upgrade-opset.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine();
afterAll(() => engine.close());

async function outputs(model: Model, feeds: Feeds): Promise<Float32Array[]> {
  const s = await engine.createSession(model);
  try {
    return Object.values(await s.run(feeds)).map((t) => Float32Array.from(t.data as ArrayLike<number>));
  } finally {
    await s.release();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('stem rewrite (Pad + SpaceToDepth + stride-1 conv)', () => {
  for (const [h, w, k, pads] of [[32, 32, 7, [3, 3, 3, 3]], [31, 33, 7, [3, 3, 3, 3]], [30, 29, 3, [1, 1, 1, 1]], [28, 28, 5, [2, 1, 2, 0]]] as const) {
    it(`computes the same convolution (${h}x${w}, ${k}x${k}, pads ${pads.join(',')})`, async () => {
      const rng = new Rng(h + w + k);
      const b = new GraphBuilder({ opset: 17 });
      const x = b.input('x', DataType.FLOAT, [1, 3, h, w]);
      const y = b.op('Conv', [x, b.floats('w', [8, 3, k, k], rng.normals(8 * 3 * k * k)), b.floats('b', [8], rng.normals(8))], { kernel_shape: [k, k], strides: [2, 2], pads: [...pads] }, { name: 'stem' });
      b.output(y);
      const model = b.build();
      const rewritten = cloneModel(model);
      expect(rewriteStems(rewritten)).toEqual(['stem']);
      expect(rewritten.graph.nodes.map((n) => n.opType)).toEqual(['Pad', 'SpaceToDepth', 'Conv']);
      const feeds: Feeds = { x: { type: 'float32', dims: [1, 3, h, w], data: rng.normals(3 * h * w) } };
      const [a] = await outputs(model, feeds);
      const [c] = await outputs(rewritten, feeds);
      expect(c!.length).toBe(a!.length);
      expect(maxDiff(a!, c!)).toBeLessThan(1e-4);
    });
  }

  it('leaves other convolutions alone', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 16, 8, 8]);
    b.output(b.op('Conv', [x, b.floats('w', [8, 16, 3, 3], new Float32Array(8 * 16 * 9))], { kernel_shape: [3, 3], strides: [2, 2] }));
    expect(rewriteStems(b.build())).toEqual([]);
  });
});

describe('opset upgrade to 10', () => {
  it('converts Slice, TopK and Upsample exactly', async () => {
    const b = new GraphBuilder({ opset: 9 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 6]);
    const s = b.op('Slice', [x], { starts: [1, 0], ends: [3, 5], axes: [2, 3] });
    const up = b.op('Upsample', [s, b.floats('scales', [4], [1, 1, 2, 2])], { mode: 'nearest' });
    const [vals] = b.opMulti('TopK', [up], { k: 3, axis: -1 }, { outputs: 2 });
    b.output(vals!);
    const model = b.build();
    const upgraded = cloneModel(model);
    expect(upgradeOpsetTo10(upgraded)).toBe(true);
    expect(upgraded.opset('')).toBe(10);
    expect(upgraded.graph.nodes.map((n) => n.opType)).toEqual(['Slice', 'Resize', 'TopK']);
    const feeds: Feeds = { x: { type: 'float32', dims: [1, 2, 4, 6], data: new Rng(1).normals(48) } };
    const [a] = await outputs(model, feeds);
    const [c] = await outputs(upgraded, feeds);
    expect(maxDiff(a!, c!)).toBe(0);
  });

  it('refuses what it cannot convert exactly, naming the node', () => {
    const b = new GraphBuilder({ opset: 8 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const p = (n: string) => b.initializer(n, Tensor.float([2], [1, 1]));
    b.output(b.op('BatchNormalization', [x, p('s'), p('b'), p('m'), p('v')], { spatial: 0 }, { name: 'bn' }));
    expect(() => upgradeOpsetTo10(b.build())).toThrow(/'bn' \(BatchNormalization\) uses spatial=0/);
    expect(() => upgradeOpsetTo10(new GraphBuilder({ opset: 6 }).build())).toThrow(/opset 6; slimnet upgrades models from opset 7 on/);
  });
});
