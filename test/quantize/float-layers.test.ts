/**
 * A layer slimnet keeps in float stays float in ONNX Runtime. Between int8 neighbours (a
 * dequantized input, a quantized output) ORT's WeightBiasQuantization would otherwise quantize its
 * weight per tensor at load and run it as a QLinearConv (seen in ORT's optimized graph).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { loadModel } from '../../src/onnx/io.js';
import { quantize } from '../../src/quantize/quantize.js';
import { Engine } from '../../src/runtime/engine.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine({ intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'slimnet-float-layers-'));
afterAll(async () => { await engine.close(); rmSync(dir, { recursive: true, force: true }); });

/** Three convs; the middle one with a bias or without, or a Gemm head reading a dequantized input. */
function threeConvs(opset: number, middleBias: boolean): Model {
  const b = new GraphBuilder({ opset });
  const rng = new Rng(7);
  let h = b.input('x', DataType.FLOAT, ['n', 4, 12, 12]);
  for (let i = 0; i < 3; i++) {
    const w = b.floats(`w${i}`, [8, i === 0 ? 4 : 8, 3, 3], rng.normals((i === 0 ? 4 : 8) * 8 * 9).map((v) => v * 0.3));
    const inputs = [h, w];
    if (i !== 1 || middleBias) inputs.push(b.floats(`b${i}`, [8], rng.normals(8)));
    h = b.op('Relu', [b.op('Conv', inputs, { pads: [1, 1, 1, 1] }, { name: `conv${i}` })]);
  }
  const flat = b.op('Flatten', [h]);
  b.output(b.op('Gemm', [flat, b.floats('wg', [8 * 144, 5], rng.normals(8 * 144 * 5).map((v) => v * 0.05)), b.floats('bg', [5], rng.normals(5))], {}, { name: 'head', outputNames: ['y'] }));
  return b.build();
}

/** The graph ONNX Runtime runs (level extended, as the speed check sees it). */
async function optimizedGraph(model: Model): Promise<Model> {
  const path = join(dir, `optimized${count++}.onnx`);
  const s = await engine.createSession(model, { graphOptimizationLevel: 'extended', optimizedModelPath: path });
  await s.release();
  return loadModel(path);
}
let count = 0;

describe('layers kept in float', () => {
  const feeds: Feeds = { x: { type: 'float32', dims: [8, 4, 12, 12], data: new Rng(3).normals(8 * 4 * 144) } };
  const calibration = join(dir, 'calib.npz');
  writeFileSync(calibration, encodeNpz(feeds));

  for (const [opset, bias] of [[10, true], [13, true], [17, false]] as const) {
    it(`stay float in ONNX Runtime between int8 neighbours (opset ${opset}, ${bias ? 'with' : 'without'} a bias)`, async () => {
      const r = await quantize(threeConvs(opset, bias), { calibration, engine, placement: 'full', exclude: ['conv1'] });
      const conv1 = [...r.model.graph.allNodes()].find((n) => n.name === 'conv1')!;
      expect(conv1.input(0)!.producer!.opType).toBe('DequantizeLinear');
      expect(conv1.input(1)!.constant?.dataType).toBe(DataType.FLOAT);
      // In ORT's optimized graph its neighbours run QLinearConv and it runs a float Conv on its
      // float weight (not one ORT quantized), with the bias as given.
      const fused = r.speedCheck!.fused.map((f) => f.node);
      expect(fused).toEqual(expect.arrayContaining(['conv0', 'conv2']));
      const optimized = await optimizedGraph(r.model);
      const ortConv1 = [...optimized.graph.allNodes()].find((n) => n.name === 'conv1')!;
      expect(ortConv1.opType).toBe('Conv');
      expect(ortConv1.input(1)!.constant?.dataType, `conv1's weight in ORT's graph comes from ${ortConv1.input(1)!.producer?.opType}`).toBe(DataType.FLOAT);
    });
  }
});
