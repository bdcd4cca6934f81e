import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { tensorType } from '../../src/ir/types.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine, compactFeeds } from '../../src/runtime/engine.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { InvalidModelError, OptionError, RuntimeError } from '../../src/errors.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { SYNTHETIC } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

function relu() {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['n']);
  const h = b.op('Relu', [x], {}, { outputNames: ['hidden'] });
  b.output(b.op('Mul', [h, b.floats('two', [], [2])], {}, { outputNames: ['y'] }));
  return b.model;
}

describe('Engine', () => {
  it('runs a model built in code', async () => {
    const s = await engine.createSession(relu());
    expect(s.info.provider).toBe('cpu');
    expect(s.info.inputNames).toEqual(['x']);
    const out = await s.run({ x: { type: 'float32', dims: [3], data: Float32Array.of(-1, 2, 3) } });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 4, 6]);
    await s.release();
  });

  it('fetches intermediate tensors by adding outputs to a copy of the model', async () => {
    const m = relu();
    const s = await engine.createSession(m, { extraOutputs: ['hidden'] });
    const out = await s.run({ x: { type: 'float32', dims: [2], data: Float32Array.of(-5, 5) } });
    expect(Array.from(out.hidden!.data as Float32Array)).toEqual([0, 5]);
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['y']); // the caller's model is untouched
    await s.release();
    await expect(engine.createSession(m, { extraOutputs: ['nope'] })).rejects.toThrow(/no tensor named 'nope'/);
  });

  it('keeps the event loop free while inference runs', async () => {
    const b = new GraphBuilder({ opset: 17 });
    let h = b.input('x', DataType.FLOAT, [2048, 512]);
    for (let i = 0; i < 32; i++) h = b.op('Tanh', [b.op('MatMul', [h, b.floats('w', [512, 512], new Float32Array(512 * 512).fill(0.001))])]);
    b.output(h);
    const s = await engine.createSession(b.model);
    let ticksWhilePending = 0;
    let done = false;
    const timer = setInterval(() => { if (!done) ticksWhilePending++; }, 1);
    await s.run({ x: { type: 'float32', dims: [2048, 512], data: new Float32Array(2048 * 512).fill(1) } });
    done = true;
    clearInterval(timer);
    await s.release();
    // ~34 GFLOP take tens of milliseconds at least; had inference blocked this thread, no timer could fire.
    expect(ticksWhilePending).toBeGreaterThan(3);
  });

  it('refuses models with int4 outputs instead of crashing the process, and fetches int4 values as int8', async () => {
    const b = new GraphBuilder({ opset: 21 });
    const x = b.input('x', DataType.FLOAT, [4]);
    const q = b.op('QuantizeLinear', [x, b.floats('s', [], [0.5]), b.initializer('zp', Tensor.fromTyped(DataType.INT4, [], Int8Array.of(0)))], {}, { outputNames: ['q4'] });
    const dq = b.op('DequantizeLinear', [q, b.floats('s2', [], [0.5]), b.initializer('zp2', Tensor.fromTyped(DataType.INT4, [], Int8Array.of(0)))]);
    b.output(dq, tensorType(DataType.FLOAT, [4]));
    const fetched = await engine.createSession(b.model, { extraOutputs: ['q4'] });
    const out = await fetched.run({ x: { type: 'float32', dims: [4], data: Float32Array.of(1, -2, 3.5, 100) } });
    expect(out.q4!.type).toBe('int8');
    expect(Array.from(out.q4!.data as Int8Array)).toEqual([2, -4, 7, 7]);
    await fetched.release();
    b.graph.outputs.push(q);
    await expect(engine.createSession(b.model)).rejects.toThrow(InvalidModelError);
    await expect(engine.createSession(b.model)).rejects.toThrow(/crashes on 4-bit outputs/);
  });

  it('reports providers that are not installed, and falls back only when allowed', async () => {
    const s = await engine.createSession(relu(), { providers: ['cuda', 'tensorrt', 'cpu'] });
    expect(s.info.provider).toBe('cpu');
    expect(s.info.notes.join('\n')).toMatch(/'cuda' skipped: CUDA: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    await s.release();
    await expect(engine.createSession(relu(), { providers: ['cuda'], strictProviders: true })).rejects.toThrow(OptionError);
    await expect(engine.createSession(relu(), { providers: ['dml'] })).rejects.toThrow(/none of the requested execution providers is available/);
    const statuses = engine.providers();
    expect(statuses.find((p) => p.name === 'cpu')!.available).toBe(true);
  });

  it('sends a sample that is a view into a whole data set as its own copy (not the whole buffer)', () => {
    const all = new Float32Array(1000).map((_, i) => i);
    const view = all.subarray(100, 104);
    const feeds = { x: { type: 'float32' as const, dims: [1, 4], data: view }, y: { type: 'float32' as const, dims: [2], data: Float32Array.of(1, 2) } };
    const c = compactFeeds(feeds);
    expect((c.x!.data as Float32Array).buffer.byteLength).toBe(16);
    expect(Array.from(c.x!.data as Float32Array)).toEqual([100, 101, 102, 103]);
    expect(c.y).toBe(feeds.y);
    expect(compactFeeds({ y: feeds.y })).toEqual({ y: feeds.y });
  });

  it('reports bad feeds as runtime errors', async () => {
    const s = await engine.createSession(relu());
    await expect(s.run({ x: { type: 'int32', dims: [1], data: Int32Array.of(1) } })).rejects.toThrow(RuntimeError);
    await s.release();
  });

  it('rejects a request that cannot be sent to the worker, and still closes (nothing left waiting for an answer)', async () => {
    const own = new Engine({ intraOpThreads: 1 });
    const s = await own.createSession(relu());
    await expect(s.run({ x: { type: 'float32', dims: [1], data: (() => 1) as never } })).rejects.toThrow(/could not be cloned/);
    const closed = await Promise.race([own.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 5000, 'still waiting'))]);
    expect(closed).toBe('closed');
  });

  it("applies ONNX Runtime's basic optimizations (BatchNorm folded into Conv) and reads the result back", async () => {
    const path = join(SYNTHETIC, 'conv_block.onnx');
    const original = loadModel(path);
    const optimized = await engine.optimize(original, 'basic');
    const ops = (m: typeof original) => m.graph.nodes.map((n) => n.opType);
    expect(ops(original)).toContain('BatchNormalization');
    expect(ops(optimized)).not.toContain('BatchNormalization');
    expect(ops(optimized).filter((o) => o === 'Conv')).toHaveLength(3);
    const feeds = sampleFeeds('conv_block');
    const [a, b] = [await engine.createSession(original), await engine.createSession(optimized)];
    const [oa, ob] = [asFloat32((await a.run(feeds)).probs!), asFloat32((await b.run(feeds)).probs!)];
    for (let i = 0; i < oa.length; i++) expect(Math.abs(oa[i]! - ob[i]!)).toBeLessThan(1e-5);
    await a.release();
    await b.release();
  });
});
