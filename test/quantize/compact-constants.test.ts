/**
 * The two compact forms that keep small models small: pools of short 1-D float constants
 * (LayerNorm scales and biases) stored as one int8 matrix decoded by Cast/Mul/Reshape/Split, and
 * long per-channel weight scales stored as float16 behind a Cast. Both must be folded away by
 * ONNX Runtime when it loads the model, change no fused kernel, and decode to the values planned.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import type { Model } from '../../src/ir/model.js';
import { decodedConstant } from '../../src/ir/decoded-constant.js';
import { Engine } from '../../src/runtime/engine.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { quantize } from '../../src/quantize/quantize.js';
import { planStored } from '../../src/quantize/static/plan-stored.js';
import { modelToBytes } from '../../src/onnx/io.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { sqnrDb } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const TMP = mkdtempSync(join(tmpdir(), 'slimnet-compact-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** x -> [MatMul(64x64) -> Add(bias) -> LayerNormalization(gamma, beta)] x blocks: short 1-D constants of one length. */
function blocks(count: number, width = 64): Model {
  const rng = new Rng(11);
  const b = new GraphBuilder({ opset: 17 });
  let x = b.input('x', DataType.FLOAT, [1, 8, width]);
  for (let i = 0; i < count; i++) {
    const y = b.op('MatMul', [x, b.floats(`w${i}`, [width, width], rng.normals(width * width, 0.15))], {}, { name: `mm${i}` });
    const z = b.op('Add', [y, b.floats(`bias${i}`, [width], rng.normals(width, 0.1))], {}, { name: `add${i}` });
    const gamma = Float32Array.from(rng.normals(width, 0.05), (v) => 1 + v);
    x = b.op('LayerNormalization', [z, b.floats(`gamma${i}`, [width], gamma), b.floats(`beta${i}`, [width], rng.normals(width, 0.05))], { axis: -1 }, { name: `ln${i}` });
  }
  b.output(b.op('Identity', [x], {}, { outputNames: ['y'] }));
  return b.build();
}

const allFloat = (m: Model, constants = true) => planStored({ model: m, floatNodes: new Set(m.graph.nodes), userKept: () => false, constants, perChannel: true, ranges: new Map() });

async function outputs(m: Model, x: Float32Array): Promise<Float32Array> {
  const s = await engine.createSession(m);
  const y = (await s.run({ x: { type: 'float32', dims: [1, 8, 64], data: x } })).y!.data as Float32Array;
  await s.release();
  return y;
}

describe('compact constants', () => {
  it('pools short 1-D constants of one length when the pool pays for its decode nodes, never alone', () => {
    const stored = allFloat(blocks(4)).filter((s) => s.pool !== undefined);
    expect(stored.map((s) => s.tensor).sort()).toEqual(['beta0', 'beta1', 'beta2', 'beta3', 'bias0', 'bias1', 'bias2', 'bias3', 'gamma0', 'gamma1', 'gamma2', 'gamma3']);
    expect(new Set(stored.map((s) => s.pool))).toEqual(new Set(['pool64']));
    // One block: three 64-element constants save 3 x 180 bytes, more than the ~400 the decode costs.
    expect(allFloat(blocks(1)).filter((s) => s.pool !== undefined)).toHaveLength(3);
    // Two 16-element constants would save 72 bytes: not worth four nodes.
    const tiny = blocks(1, 16);
    expect(allFloat(tiny).some((s) => s.pool !== undefined)).toBe(false);
    // Not without --store-constants.
    expect(allFloat(blocks(4), false).some((s) => s.pool !== undefined)).toBe(false);
  });

  it("placement 'storage': the pool decodes to the planned int8 values, ORT folds it, the file shrinks", async () => {
    const m = blocks(4);
    const calib = join(TMP, 'calib.npz');
    writeFileSync(calib, encodeNpz({ x: { type: 'float32', dims: [8, 1, 8, 64], data: new Rng(2).normals(8 * 512) } }));
    const r = await quantize(m, { calibration: calib, placement: 'storage', engine });
    const ops = r.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Split')).toHaveLength(1);
    // ORT folds Cast/Mul/Reshape/Split: what is left is what it makes of the float model.
    const folded = (await engine.optimize(r.model, 'basic')).graph.nodes.map((n) => n.opType);
    expect(folded).toEqual((await engine.optimize(m, 'basic')).graph.nodes.map((n) => n.opType));
    // gamma0 as decoded = its int8 row x its scale, within half a step of the float values.
    const plan = r.plan.stored.find((s) => s.tensor === 'gamma0')!;
    const original = m.graph.initializers.get('gamma0')!.constant!.toFloat32();
    const q = r.model.graph.initializers.get('pool64_i8')!.constant!;
    expect(q.dataType).toBe(DataType.INT8);
    const row = r.plan.stored.filter((s) => s.pool === 'pool64').findIndex((s) => s.tensor === 'gamma0');
    const ints = (q.data() as Int8Array).subarray(row * 64, row * 64 + 64);
    for (let i = 0; i < 64; i++) expect(Math.abs(ints[i]! * plan.scales[0]! - original[i]!)).toBeLessThanOrEqual(plan.scales[0]! / 2 + 1e-7);
    const x = new Rng(3).normals(512);
    expect(sqnrDb(await outputs(m, x), await outputs(r.model, x))).toBeGreaterThan(35);
    const pooledBytes = modelToBytes(r.model).length;
    const unpooled = await quantize(m, { calibration: calib, placement: 'storage', storeConstants: false, engine });
    expect(pooledBytes).toBeLessThan(modelToBytes(unpooled.model).length - 12 * 64 * 2);
  });

  it('opset 11: the pool splits with sizes as an attribute, ORT folds it', async () => {
    const rng = new Rng(21);
    const b = new GraphBuilder({ opset: 11 });
    let x = b.input('x', DataType.FLOAT, [1, 8, 64]);
    for (let i = 0; i < 3; i++) {
      x = b.op('Add', [b.op('MatMul', [x, b.floats(`w${i}`, [64, 64], rng.normals(4096, 0.15))]), b.floats(`bias${i}`, [64], rng.normals(64, 0.1))]);
      x = b.op('Mul', [x, b.floats(`gain${i}`, [64], Float32Array.from(rng.normals(64, 0.05), (v) => 1 + v))]);
    }
    b.output(b.op('Identity', [x], {}, { outputNames: ['y'] }));
    const m = b.build();
    const calib = join(TMP, 'calib11.npz');
    writeFileSync(calib, encodeNpz({ x: { type: 'float32', dims: [8, 1, 8, 64], data: new Rng(6).normals(8 * 512) } }));
    const r = await quantize(m, { calibration: calib, placement: 'storage', engine });
    const split = r.model.graph.nodes.find((n) => n.opType === 'Split')!;
    expect(split.inputs).toHaveLength(1);
    expect(split.outputs).toHaveLength(6);
    expect(split.getInts('split')).toEqual([64, 64, 64, 64, 64, 64]);
    const folded = (await engine.optimize(r.model, 'basic')).graph.nodes.map((n) => n.opType);
    expect(folded).toEqual((await engine.optimize(m, 'basic')).graph.nodes.map((n) => n.opType));
    const x0 = new Rng(7).normals(512);
    expect(sqnrDb(await outputs(m, x0), await outputs(r.model, x0))).toBeGreaterThan(35);
  });

  it('per-channel weight scales of 48+ channels: float16 behind a Cast, exact, still fused by ORT; QOperator keeps float', async () => {
    const m = blocks(2);
    const calib = join(TMP, 'calib2.npz');
    writeFileSync(calib, encodeNpz({ x: { type: 'float32', dims: [8, 1, 8, 64], data: new Rng(4).normals(8 * 512) } }));
    const r = await quantize(m, { calibration: calib, placement: 'full', engine });
    const weights = r.plan.weights.filter((w) => w.axis !== null);
    expect(weights.length).toBe(2);
    for (const w of weights) {
      expect(w.scaleType).toBe('float16');
      const dq = r.model.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.output(0).uses.some((u) => u.node.name === w.uses[0]!.node))!;
      expect(dq.input(1)!.producer!.opType).toBe('Cast');
      expect(dq.input(1)!.producer!.input(0)!.constant!.dataType).toBe(DataType.FLOAT16);
      // The float16 scales are the plan's scales exactly: the int8 weights were computed from them.
      expect(Array.from(decodedConstant(dq.input(1))!.toFloat32())).toEqual(w.scales);
    }
    const optimized = (await engine.optimize(r.model, 'extended')).graph.nodes.map((n) => n.opType);
    expect(optimized.filter((o) => /^(QGemm|QLinearMatMul|MatMulIntegerToFloat)$/.test(o))).toHaveLength(2); // MatMul+Add -> QGemm
    expect(optimized).not.toContain('Cast');
    expect(r.speedCheck!.unfused).toEqual([]);
    const qop = await quantize(m, { calibration: calib, placement: 'full', format: 'qoperator', engine });
    expect(qop.plan.weights.every((w) => w.scaleType === undefined)).toBe(true);
    const x = new Rng(5).normals(512);
    expect(sqnrDb(await outputs(m, x), await outputs(r.model, x))).toBeGreaterThan(25);
  });
});
