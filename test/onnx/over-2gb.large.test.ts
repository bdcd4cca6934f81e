/**
 * Opt-in (npm run test:large, ~2.6 GB of disk and ~6 GB of memory): a model with more than 2 GB of
 * weights saves and loads through external data, never building a protobuf message over 2 GB,
 * and ONNX Runtime runs it with the expected result.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { loadModel, saveModel, modelToBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-large-'));
const engine = new Engine({ intraOpThreads: 1 });
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const K = 8;
const N = 16 * 1024 * 1024; // each weight [8, 16M] float32 = 512 MiB
const COUNT = 5; // 2.5 GiB in total

/** Weight i holds (i + 1) * 0.001 everywhere, so x . W is easy to check. */
function buildModel() {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, K]);
  const outs = [];
  for (let i = 0; i < COUNT; i++) {
    const w = b.initializer(`w${i}`, Tensor.float([K, N], new Float32Array(K * N).fill((i + 1) * 0.001)));
    const y = b.op('MatMul', [x, w]);
    // Max and min (not a float sum over 16M values, which rounds) check every weight element.
    outs.push(b.op('ReduceMax', [y], { keepdims: 0 }, { outputNames: [`max${i}`] }));
    outs.push(b.op('ReduceMin', [y], { keepdims: 0 }, { outputNames: [`min${i}`] }));
  }
  outs.forEach((o) => b.output(o));
  return b.model;
}

describe('models over 2 GB', () => {
  it('save and load through external data, and run in ONNX Runtime', async () => {
    const path = join(dir, 'big.onnx');
    const model = buildModel();
    expect(() => modelToBytes(model)).toThrow(/2 GB limit/);
    const res = saveModel(model, path);
    expect(res.notes.join()).toMatch(/exceed protobuf's 2 GB limit/);
    expect(res.bytes).toBeLessThan(64 * 1024);
    expect(statSync(res.externalDataPath!).size).toBeGreaterThanOrEqual(COUNT * K * N * 4);

    const loaded = loadModel(path);
    const w3 = loaded.graph.initializers.get('w3')!.constValue!;
    expect(w3.isExternal).toBe(true);
    expect((w3.data() as Float32Array)[N * K - 1]).toBeCloseTo(0.004);
    w3.release();

    // Re-saving streams tensor by tensor into a new data file.
    const copy = join(dir, 'copy.onnx');
    const res2 = saveModel(loaded, copy, { externalData: true });
    expect(res2.externalDataBytes).toBe(res.externalDataBytes);

    const s = await engine.createSession(copy);
    const out = await s.run({ x: { type: 'float32', dims: [1, K], data: new Float32Array(K).fill(1) } });
    for (let i = 0; i < COUNT; i++) {
      for (const kind of ['max', 'min']) {
        const v = (out[`${kind}${i}`]!.data as Float32Array)[0]!;
        expect(v).toBeCloseTo(K * (i + 1) * 0.001, 5);
      }
    }
    await s.release();
  }, 900_000);
});
