/**
 * FP16 conversion on every fixture (trained, synthetic, third-party), run in onnxruntime-node on CPU.
 *
 * Documented tolerance (docs/quantization-modes.md): the largest deviation of any output from
 * float32 is at most 1% of that output's largest magnitude (floored at 1e-3); 3% for PaddleOCR's
 * recognizer, whose hard-swish backbone accumulates float16 rounding (2.1% measured on a text-like
 * image, every time step still decodes to the same character).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { quantizeStep } from '../../src/recipe/quantize-recipe.js';
import { Engine } from '../../src/runtime/engine.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { convertToFp16 } from '../../src/quantize/fp16/convert.js';
import { inferElemTypes } from '../../src/ir/elem-types.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_CASES } from './feeds.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds, TensorData } from '../../src/runtime/types.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

/** max |a - b| / max(max |b|, 1e-3) */
function deviation(a: TensorData, b: TensorData): number {
  const x = asFloat32(a);
  const y = asFloat32(b);
  let scale = 1e-3;
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    scale = Math.max(scale, Math.abs(y[i]!));
    worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst / scale;
}

async function outputs(m: Model, feeds: Feeds): Promise<Record<string, TensorData>> {
  const s = await engine.createSession(m);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('convertToFp16 on every fixture', () => {
  for (const c of ALL_CASES) {
    const tolerance = c.name === 'ocr-rec' ? 0.03 : 0.01;
    it(`${c.name}: runs on CPU with float32 I/O, half the weight bytes, outputs within ${tolerance * 100}%`, async () => {
      const m = loadModel(c.path);
      const { model, summary } = await convertToFp16(m);
      const feeds = c.feeds();
      const [ref, half] = [await outputs(m, feeds), await outputs(model, feeds)];
      for (const [name, t] of Object.entries(ref)) {
        expect(half[name]!.type).toBe(t.type);
        expect(deviation(half[name]!, t)).toBeLessThan(tolerance);
      }
      expect(summary.sizeAfterBytes).toBeLessThan(0.55 * summary.sizeBeforeBytes);
      expect(summary.quantized.length).toBeGreaterThan(0);
      // Every node is accounted for.
      const nodes = [...model.graph.allGraphs()].reduce((s, g) => s + g.nodes.length, 0);
      expect(summary.quantized.length + summary.skipped.length).toBe(nodes);
    });
  }
});

describe('convertToFp16 block list', () => {
  it('keeps shape arithmetic, Range, overflowing and underflowing constants in float32, and Resize scales float32', async () => {
    const b = new GraphBuilder({ opset: 17 });
    // Symbolic sizes, so that ONNX Runtime's optimizer cannot fold the shape arithmetic away.
    const x = b.input('x', DataType.FLOAT, [1, 2, 'h', 'w']);
    const n = b.input('n', DataType.FLOAT, []);
    // Resize to twice the size, with scales computed from the input shape in float.
    const shape = b.op('Shape', [x]);
    const hw = b.op('Cast', [b.op('Slice', [shape, b.int64s('s0', [1], [2]), b.int64s('s1', [1], [4])])], { to: DataType.FLOAT });
    const target = b.op('Mul', [hw, b.floats('two', [], [2])]);
    const scales = b.op('Concat', [b.floats('one', [2], [1, 1]), b.op('Div', [target, hw])], { axis: 0 });
    const up = b.op('Resize', [x, b.floats('roi', [0], []), scales], { mode: 'nearest' });
    // A mask-like constant beyond fp16, and an epsilon that fp16 rounds to 0.
    const masked = b.op('Add', [up, b.floats('big', [], [-1e9])]);
    const safe = b.op('Div', [up, b.op('Add', [b.op('Mul', [up, up]), b.floats('eps', [], [1e-12])])]);
    const r = b.op('Range', [b.floats('r0', [], [0]), n, b.floats('r2', [], [1])]);
    b.output(b.op('Add', [safe, r], {}, { outputNames: ['y'] }));
    b.output(b.op('ReduceMax', [masked], { keepdims: 0 }, { outputNames: ['m'] }));
    const m = b.build();
    const { model, summary } = await convertToFp16(m);
    const reason = (op: string) => summary.skipped.filter((d) => d.op === op).map((d) => d.detail);
    expect(reason('Mul').join()).toMatch(/shape arithmetic/);
    expect(reason('Div').join()).toMatch(/shape arithmetic/);
    expect(reason('Range')[0]).toMatch(/Range accumulates/);
    expect(reason('Add').join()).toMatch(/constant 'big' holds -?1\.0e\+9, beyond the float16 range/);
    expect(reason('Add').join()).toMatch(/constant 'eps' \(1\.0e-12\) would round to 0 in float16/);
    const resize = model.graph.nodes.find((n) => n.opType === 'Resize')!;
    expect(summary.quantized.find((d) => d.op === 'Resize')).toBeDefined();
    expect(resize.input(2)!.producer!.opType).toBe('Concat'); // scales computed in float32, no Cast to fp16
    const feeds: Feeds = {
      x: { type: 'float32', dims: [1, 2, 4, 4], data: Float32Array.from({ length: 32 }, (_, i) => (i % 7) - 3) },
      n: { type: 'float32', dims: [], data: Float32Array.from([8]) },
    };
    const [ref, half] = [await outputs(m, feeds), await outputs(model, feeds)];
    expect(half.y!.dims).toEqual([1, 2, 8, 8]);
    expect(deviation(half.y!, ref.y!)).toBeLessThan(0.01);
    expect(deviation(half.m!, ref.m!)).toBeLessThan(0.01);
  });

  it('with calibration data, keeps nodes whose values exceed the float16 range in float32', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, ['batch', 4]);
    // Up to ~1e6 in the middle (inf in float16), back to ~x at the end.
    const big = b.op('Mul', [b.op('Mul', [x, b.floats('k1', [], [1000])], {}, { name: 'scale_up' }), b.floats('k2', [], [1000])], {}, { name: 'scale_up_more' });
    b.output(b.op('Div', [big, b.floats('k3', [], [1e6])], {}, { name: 'scale_down', outputNames: ['y'] }));
    const m = b.build();
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-fp16-'));
    try {
      const calib = join(dir, 'calib.npz');
      const data = Float32Array.from({ length: 32 }, (_, i) => 1 + (i % 5));
      writeFileSync(calib, encodeNpz({ x: { type: 'float32', dims: [8, 4], data } }));
      const feeds: Feeds = { x: { type: 'float32', dims: [8, 4], data } };
      const blind = await convertToFp16(m);
      expect(blind.summary.warnings.join()).toMatch(/no calibration data given/);
      // Without data the 5e6 intermediate becomes float16: infinite wherever float16 kernels run
      // (GPUs; ONNX Runtime's CPU EP computes such float16 islands in float32 behind inserted Casts).
      const typeOf = (model: Model, name: string) => [...inferElemTypes(model.graph)].find(([v]) => v.name === name)?.[1];
      expect(typeOf(blind.model, 'scale_up_more_out')).toBe(DataType.FLOAT16);
      const checked = await convertToFp16(m, { calibration: calib, engine });
      expect(checked.summary.warnings.join()).toMatch(/'scale_up_more_out' reaches 5\.00e\+6 on the data, beyond the float16 range/);
      const kept = checked.summary.skipped.map((d) => d.node);
      expect(kept).toEqual(expect.arrayContaining(['scale_up_more', 'scale_down']));
      expect(typeOf(checked.model, 'scale_up_more_out')).not.toBe(DataType.FLOAT16);
      expect(deviation((await outputs(checked.model, feeds)).y!, (await outputs(m, feeds)).y!)).toBeLessThan(0.01);
      // A recipe keeps what the data found; replayed without data, it writes the same bytes.
      const step = quantizeStep({ mode: 'fp16' }, checked);
      expect(step).toMatchObject({ mode: 'fp16', decisions: { beyondFp16: { scale_up_more_out: 5e6 } } });
      const replay = await convertToFp16(m, { beyondFp16: (step as { decisions: { beyondFp16: Record<string, number> } }).decisions.beyondFp16, engine });
      expect(Buffer.compare(Buffer.from(modelToBytes(replay.model)), Buffer.from(modelToBytes(checked.model)))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns Cast-to-float into Cast-to-float16 and can make the model I/O float16', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const ids = b.input('ids', DataType.INT64, [3]);
    const x = b.input('x', DataType.FLOAT, [3]);
    b.output(b.op('Mul', [x, b.op('Cast', [ids], { to: DataType.FLOAT })], {}, { outputNames: ['y'] }));
    const m = b.build();
    const kept = await convertToFp16(m);
    expect(kept.model.graph.nodes.find((n) => n.opType === 'Cast' && n.input(0)!.name === 'ids')!.getInt('to')).toBe(DataType.FLOAT16);
    expect(kept.model.graph.outputs[0]!.name).toBe('y');
    const io = await convertToFp16(m, { keepIoTypes: false });
    const feeds: Feeds = { ids: { type: 'int64', dims: [3], data: BigInt64Array.from([1n, 2n, 3n]) }, x: { type: 'float16', dims: [3], data: Uint16Array.from([0x3c00, 0x4000, 0x3800]) } };
    const out = await outputs(io.model, feeds);
    expect(out.y!.type).toBe('float16');
    expect(Array.from(asFloat32(out.y!))).toEqual([1, 4, 1.5]);
  });

  it('leaves an already converted model alone', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.op('Add', [x, b.initializer('w', Tensor.float([2], [1, 2]))], {}, { outputNames: ['y'] }));
    const once = (await convertToFp16(b.build())).model;
    const twice = await convertToFp16(once);
    expect(twice.model.graph.nodes.map((n) => n.opType)).toEqual(once.graph.nodes.map((n) => n.opType));
  });
});
