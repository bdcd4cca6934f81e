/** Hard-swish written as Add/Clip/Mul/Div becomes x * HardSigmoid(x): same outputs in ONNX Runtime, fewer ops. */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { floatAttr } from '../../src/ir/attribute.js';
import type { Model } from '../../src/ir/model.js';
import { cloneModel } from '../../src/ir/clone.js';
import { loadModel } from '../../src/onnx/io.js';
import { runPasses, CLEANUP_PASSES } from '../../src/ir/passes/index.js';
import { fuseHardSwish } from '../../src/ir/passes/fuse-hard-swish.js';
import { Engine } from '../../src/runtime/engine.js';
import type { Feeds } from '../../src/runtime/types.js';
import { THIRD_PARTY } from '../helpers.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

async function run(model: Model, feeds: Feeds): Promise<Float32Array> {
  const s = await engine.createSession(model);
  try {
    const out = await s.run(feeds);
    return out[model.graph.outputs[0]!.name]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const count = (m: Model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;

/** Four hard-swish spellings exporters use, one after another, plus one that must stay (its Clip output is read twice). */
function spellings(opset: number): Model {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', DataType.FLOAT, [2, 16]);
  const k = (name: string, v: number) => b.initializer(name, Tensor.float([], [v]));
  const clip = (v: ReturnType<typeof b.op>, name: string) =>
    opset >= 11 ? b.op('Clip', [v, k(`${name}_lo`, 0), k(`${name}_hi`, 6)], {}, { name }) : b.op('Clip', [v], [floatAttr('min', 0), floatAttr('max', 6)], { name });
  // x * clip(x + 3) / 6
  const a1 = b.op('Div', [b.op('Mul', [x, clip(b.op('Add', [x, k('three1', 3)]), 'clip1')]), k('six1', 6)]);
  // clip(3 + x) * (1/6), then * x (constant first, product the other way round)
  const a2 = b.op('Mul', [b.op('Mul', [k('sixth2', 1 / 6), clip(b.op('Add', [k('three2', 3), a1]), 'clip2')]), a1]);
  // x * clip(x + 3) * (1/6)
  const a3 = b.op('Mul', [b.op('Mul', [clip(b.op('Add', [a2, k('three3', 3)]), 'clip3'), a2]), k('sixth3', 1 / 6)]);
  // clip(x + 3) / 6, then x *
  const a4 = b.op('Mul', [a3, b.op('Div', [clip(b.op('Add', [a3, k('three4', 3)]), 'clip4'), k('six4', 6)])]);
  // Not fused: the clipped value is also an output of its own.
  const c5 = clip(b.op('Add', [a4, k('three5', 3)]), 'clip5');
  b.output(b.op('Div', [b.op('Mul', [a4, c5]), k('six5', 6)], {}, { outputNames: ['y'] }));
  b.output(c5);
  return b.build();
}

describe('fuseHardSwish', () => {
  for (const opset of [9, 13]) {
    it(`fuses the four spellings (Clip ${opset >= 11 ? 'with constant inputs' : 'with attributes'}, opset ${opset}) and leaves one whose clip is read elsewhere`, async () => {
      const model = spellings(opset);
      const fused = cloneModel(model);
      expect(fuseHardSwish(fused)).toBe(4);
      runPasses(fused, CLEANUP_PASSES);
      expect(count(fused, 'HardSigmoid')).toBe(4);
      expect(count(fused, 'Clip')).toBe(1);
      expect(fused.graph.outputs.map((o) => o.name)).toEqual(model.graph.outputs.map((o) => o.name));
      const rng = new Rng(3);
      const feeds: Feeds = { x: { type: 'float32', dims: [2, 16], data: Float32Array.from(rng.normals(32, 3)) } };
      expect(maxDiff(await run(fused, feeds), await run(model, feeds))).toBeLessThan(1e-5);
    });
  }

  it('on the PaddleOCR classifier (opset 9): all 18, same outputs, two ops fewer for each', async () => {
    const model = loadModel(THIRD_PARTY.ocrCls());
    const fused = cloneModel(model);
    expect(fuseHardSwish(fused)).toBe(18);
    runPasses(fused, CLEANUP_PASSES);
    expect(model.graph.nodes.length - fused.graph.nodes.length).toBeGreaterThanOrEqual(2 * 18);
    expect(count(fused, 'Clip')).toBe(0);
    const rng = new Rng(4);
    const feeds: Feeds = { x: { type: 'float32', dims: [1, 3, 48, 192], data: Float32Array.from(rng.normals(3 * 48 * 192, 0.5)) } };
    expect(maxDiff(await run(fused, feeds), await run(model, feeds))).toBeLessThan(1e-5);
  });
});
