/**
 * Stored constants: int8 + Cast/Mul that ONNX Runtime folds back to float when it loads the model.
 * Checks the runtime fact the design rests on (ORT folds Cast/Mul of initializers but keeps a
 * DequantizeLinear of an initializer), the SQNR rule for constants that are not weights, and the
 * 'storage' placement end to end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Model } from '../../src/ir/model.js';
import { Engine } from '../../src/runtime/engine.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { quantize } from '../../src/quantize/quantize.js';
import { planStored, MIN_SQNR_DB } from '../../src/quantize/static/plan-stored.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { sqnrDb } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const TMP = mkdtempSync(join(tmpdir(), 'slimnet-stored-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** x -> MatMul(w) -> Add(table) -> y: a weight and a position-table-like constant. */
function matmulAdd(table: Float32Array): Model {
  const rng = new Rng(5);
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, 16, 32]);
  const y = b.op('MatMul', [x, b.floats('w', [32, 32], rng.normals(1024, 0.2))], {}, { name: 'mm' });
  b.output(b.op('Add', [y, b.floats('table', [1, 16, 32], table)], {}, { name: 'add', outputNames: ['y'] }));
  return b.build();
}

const opTypes = (m: Model) => m.graph.nodes.map((n) => n.opType);

describe('stored constants', () => {
  it('ORT folds Cast -> Mul of initializers at load, but runs a DequantizeLinear of one every time', async () => {
    const withDq = new GraphBuilder({ opset: 17 });
    const x = withDq.input('x', DataType.FLOAT, [2, 4]);
    const q = withDq.initializer('wq', Tensor.fromTyped(DataType.INT8, [4, 4], Int8Array.from({ length: 16 }, (_, i) => i - 8)));
    const w = withDq.op('DequantizeLinear', [q, withDq.floats('s', [], [0.5])]);
    withDq.output(withDq.op('MatMul', [x, w]));
    expect(opTypes(await engine.optimize(withDq.build(), 'basic'))).toEqual(['DequantizeLinear', 'MatMul']);

    const withCast = new GraphBuilder({ opset: 17 });
    const x2 = withCast.input('x', DataType.FLOAT, [2, 4]);
    const q2 = withCast.initializer('wq', Tensor.fromTyped(DataType.INT8, [4, 4], Int8Array.from({ length: 16 }, (_, i) => i - 8)));
    const f = withCast.op('Cast', [q2], { to: DataType.FLOAT });
    withCast.output(withCast.op('MatMul', [x2, withCast.op('Mul', [f, withCast.floats('s', [1, 4], [0.5, 0.25, 1, 2])])]));
    const folded = await engine.optimize(withCast.build(), 'basic');
    expect(opTypes(folded)).toEqual(['MatMul']);
    const wf = folded.graph.nodes[0]!.input(1)!.constant!.toFloat32();
    expect(Array.from(wf.slice(0, 4))).toEqual([-8 * 0.5, -7 * 0.25, -6, -5 * 2]);
  });

  it('stores weights per channel; other constants per tensor at >= 40 dB and <= 1% mean error, or below a quarter step of what they are added to', () => {
    const smooth = new Rng(1).normals(512, 0.1);
    const m = matmulAdd(smooth);
    const all = (mm: Model) => planStored({ model: mm, floatNodes: new Set(mm.graph.nodes), userKept: () => false, constants: true, perChannel: true, ranges: new Map() });
    const stored = new Map(all(m).map((s) => [s.tensor, s]));
    expect(stored.get('w')).toMatchObject({ axis: 1 });
    expect(stored.get('w')!.scales).toHaveLength(32);
    expect(stored.get('table')).toMatchObject({ axis: null });
    expect(stored.get('table')!.sqnrDb).toBeGreaterThanOrEqual(MIN_SQNR_DB);
    // One huge outlier: int8 with one scale would flatten the rest, so it stays float.
    const spiky = Float32Array.from(smooth, (v, i) => (i === 0 ? 1000 : v));
    expect(all(matmulAdd(spiky)).map((s) => s.tensor)).toEqual(['w']);
    // Unless what it is added into spans a range where that error is below a quarter of an 8-bit step.
    const sp = matmulAdd(spiky);
    const ranged = (range: number) => planStored({ model: sp, floatNodes: new Set(sp.graph.nodes), userKept: () => false, constants: true, perChannel: true, ranges: new Map([['y', { min: -range / 2, max: range / 2 }]]) });
    expect(ranged(10).map((s) => s.tensor)).toEqual(['w']);
    expect(ranged(10000).map((s) => s.tensor)).toEqual(['w', 'table']);
    // Only weights, when constants are not to be stored; nothing when the node is quantized.
    expect(planStored({ model: m, floatNodes: new Set(m.graph.nodes), userKept: () => false, constants: false, perChannel: true, ranges: new Map() }).map((s) => s.tensor)).toEqual(['w']);
    expect(planStored({ model: m, floatNodes: new Set(), userKept: () => false, constants: true, perChannel: true, ranges: new Map() })).toEqual([]);
  });

  it("placement 'storage': float compute, int8 constants, close to float, folded by ORT", async () => {
    const m = matmulAdd(new Rng(1).normals(512, 0.1));
    const calib = join(TMP, 'calib.npz');
    writeFileSync(calib, encodeNpz({ x: { type: 'float32', dims: [8, 1, 16, 32], data: new Rng(2).normals(8 * 512) } }));
    const r = await quantize(m, { calibration: calib, placement: 'storage', engine });
    expect(r.plan.nodes.every((n) => n.action === 'float')).toBe(true);
    expect(r.plan.stored.map((s) => s.tensor).sort()).toEqual(['table', 'w']);
    expect(r.summary.sizeAfterBytes / r.summary.sizeBeforeBytes).toBeLessThan(0.3);
    expect(opTypes(await engine.optimize(r.model, 'basic'))).toEqual(['MatMul', 'Add']);
    const feeds = { x: { type: 'float32' as const, dims: [1, 16, 32], data: new Rng(3).normals(512) } };
    const [a, b] = [await engine.createSession(m), await engine.createSession(r.model)];
    const ya = (await a.run(feeds)).y!.data as Float32Array;
    const yb = (await b.run(feeds)).y!.data as Float32Array;
    await a.release();
    await b.release();
    expect(sqnrDb(ya, yb)).toBeGreaterThan(35);
  });
});
