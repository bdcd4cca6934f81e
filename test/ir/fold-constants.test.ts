/**
 * Constant folding over initializers: every chain is folded, and the folded model computes the
 * same outputs, bit for bit, as the original in ONNX Runtime (which evaluates the chains itself).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { encodeFloat16 } from '../../src/ir/float-formats.js';
import { cloneModel } from '../../src/ir/clone.js';
import { foldConstants, describeFolding } from '../../src/ir/passes/index.js';
import { Engine } from '../../src/runtime/engine.js';
import { bitwiseEqual } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const ramp = (n: number, scale = 0.37) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * scale) * (i + 1));

/** Each output is x (zeros) + a constant computed by a chain over initializers. */
function chains() {
  const b = new GraphBuilder({ opset: 21 });
  const f16 = (name: string, dims: number[]) => b.initializer(name, Tensor.fromTyped(DataType.FLOAT16, dims, encodeFloat16(ramp(dims.reduce((a, c) => a * c, 1)))));
  const outs = [];
  // Cast(float16) -> Reshape -> Transpose: a weight stored narrow and transposed.
  const w = b.op('Transpose', [b.op('Reshape', [b.op('Cast', [f16('w16', [6, 4])], { to: DataType.FLOAT }), b.int64s('shape', [3], [2, 3, -1])])], { perm: [2, 0, 1] });
  outs.push(w);
  // Squeeze/Unsqueeze (opset 13 input form), Identity, Concat of constants.
  const s = b.op('Unsqueeze', [b.op('Squeeze', [b.floats('s', [1, 4, 1], ramp(4)), b.int64s('ax', [1], [2])]), b.int64s('ax2', [1], [0])]);
  outs.push(b.op('Concat', [b.op('Identity', [s]), b.floats('c2', [1, 1, 4], ramp(4, 1.1))], { axis: 1 }));
  // DequantizeLinear per axis and per block (opset 21) of int8 / int4 weights.
  const q8 = b.initializer('q8', Tensor.fromTyped(DataType.INT8, [3, 4], Int8Array.from({ length: 12 }, (_, i) => (i * 37) % 255 - 127)));
  outs.push(b.op('DequantizeLinear', [q8, b.floats('sc', [3], [0.5, 0.25, 0.125]), b.initializer('zp', Tensor.fromTyped(DataType.INT8, [3], Int8Array.of(1, -2, 3)))], { axis: 0 }));
  const q4 = b.initializer('q4', Tensor.fromTyped(DataType.INT4, [2, 6], Int8Array.from({ length: 12 }, (_, i) => (i % 16) - 8)));
  outs.push(b.op('DequantizeLinear', [q4, b.floats('bs', [2, 2], [0.1, 0.2, 0.3, 0.4])], { axis: 1, block_size: 4 }));
  // A bfloat16 Cast, and a Cast to float16 (computed in float16 downstream, cast back).
  outs.push(b.op('Cast', [b.op('Cast', [b.initializer('bf', Tensor.fromFloat32(DataType.BFLOAT16, [5], ramp(5)))], { to: DataType.FLOAT })], { to: DataType.FLOAT }));
  outs.push(b.op('Cast', [b.op('Cast', [b.floats('f', [5], ramp(5, 0.9))], { to: DataType.FLOAT16 })], { to: DataType.FLOAT }));
  for (const [i, c] of outs.entries()) {
    const x = b.input(`x${i}`, DataType.FLOAT, [1]);
    b.output(b.op('Add', [c, x], {}, { outputNames: [`y${i}`] }));
  }
  return b.build();
}

describe('foldConstants', () => {
  it('folds every chain into initializers with the values ONNX Runtime computes', async () => {
    const model = chains();
    const folded = cloneModel(model);
    const report = foldConstants(folded);
    expect(folded.graph.nodes.map((n) => n.opType)).toEqual(Array(6).fill('Add'));
    expect(describeFolding(report)).toBe(
      'folded 13 constant nodes over initializers into weights before planning (2 x Cast float16->float32, 1 x Reshape, 1 x Transpose, 1 x Squeeze, 1 x Unsqueeze, 1 x Identity, ' +
        '1 x Concat, 1 x DequantizeLinear of int8, 1 x DequantizeLinear of int4, 1 x Cast bfloat16->float32, 1 x Cast float32->float32, 1 x Cast float32->float16); ' +
        'the weights stored in integers are rounded a second time when quantized: quantize the float model they came from when you have it',
    );
    expect(report.float16.size).toBe(2);
    const feeds = Object.fromEntries(model.graph.inputs.map((v) => [v.name, { type: 'float32' as const, dims: [1], data: new Float32Array(1) }]));
    const [a, b] = [await engine.createSession(model), await engine.createSession(folded)];
    try {
      const [ra, rb] = [await a.run(feeds), await b.run(feeds)];
      for (const name of Object.keys(ra)) expect(bitwiseEqual(ra[name]!, rb[name]!), name).toBe(true);
      expect(rb.y0!.dims).toEqual([4, 2, 3]);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('leaves quantized models alone', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const q = b.op('QuantizeLinear', [x, b.floats('s', [], [0.1])]);
    b.output(b.op('Add', [b.op('DequantizeLinear', [q, b.floats('s2', [], [0.1])]), b.op('Cast', [b.initializer('h', Tensor.fromFloat32(DataType.FLOAT16, [2], [1, 2]))], { to: DataType.FLOAT })]));
    const m = b.build();
    expect(foldConstants(m).counts.size).toBe(0);
    expect(m.graph.nodes.map((n) => n.opType)).toContain('Cast');
  });
});
