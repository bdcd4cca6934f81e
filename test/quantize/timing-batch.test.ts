/**
 * What int8 speed is measured on: `--timing-batch N` feeds N samples per timed run, and the int8
 * fixtures run entirely in integer kernels in ORT's optimized graph (no float op between int8
 * neighbours, so nothing in the placement adds per-op cost a batch could hide).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeStatic } from '../../src/quantize/static/quantize-static.js';
import { timingFeeds } from '../../src/quantize/static/timing-feeds.js';
import { OptionError } from '../../src/errors.js';
import { FIXTURES, TRAINED, slimnet } from '../helpers.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');

describe('--timing-batch', () => {
  it('times on that many calibration samples, refuses a fixed batch axis and bad values', async () => {
    const m = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const one = (await timingFeeds(m, { input: { type: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784) } }, 1, CALIB))!;
    expect(one.input!.dims).toEqual([1, 1, 28, 28]);
    const eight = (await timingFeeds(m, one, 8, CALIB))!;
    expect(eight.input!.dims).toEqual([8, 1, 28, 28]);
    // Real samples, not one repeated: the second differs from the first.
    const d = eight.input!.data as Float32Array;
    expect(d.subarray(784, 1568)).not.toEqual(d.subarray(0, 784));
    // Without calibration data (ranges given) the synthetic sample is repeated.
    const rep = (await timingFeeds(m, { input: { type: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.5) } }, 4, undefined))!;
    expect(rep.input!.dims).toEqual([4, 1, 28, 28]);

    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4, 8, 8]);
    b.output(b.op('Conv', [x, b.floats('w', [4, 4, 1, 1], new Rng(1).normals(16))], {}, { outputNames: ['y'] }));
    await expect(timingFeeds(b.build(), rep, 4, undefined)).rejects.toThrow(/--timing-batch 4: input 'x' .* fixed batch axis of 1/);
    await expect(quantizeStatic(m, { calibration: CALIB, timingBatch: 0, engine })).rejects.toThrow(OptionError);
    const r = slimnet(['quantize', join(TRAINED, 'resnet_bn.onnx'), '-o', '/tmp/never.onnx', '--calib', CALIB, '--timing-batch', '2.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timing-batch must be an integer/);
  });

  it('the speed check reports the batch it timed', async () => {
    const r = await quantizeStatic(loadModel(join(TRAINED, 'resnet_bn.onnx')), { calibration: CALIB, placement: 'full', timingBatch: 8, engine });
    expect(r.speedCheck!.latency!.batch).toBe(8);
    expect(r.plan.notes.join('\n')).toMatch(/speed measured at batch 8 \(--timing-batch\)/);
  });
});

describe('int8 fixtures in ORT', () => {
  // Ops ORT runs on 8-bit data, and the layout/shape ops it inserts around them.
  const INT8 = new Set(['QLinearConv', 'QLinearAdd', 'QLinearGlobalAveragePool', 'QGemm', 'QuantizeLinear', 'Transpose', 'Reshape']);
  for (const name of ['resnet_bn', 'mobilenet_dw']) {
    it(`${name}, placement full: every op in the optimized graph is an integer kernel, one QuantizeLinear at the input, no DequantizeLinear`, async () => {
      const q = await quantizeStatic(loadModel(join(TRAINED, `${name}.onnx`)), { calibration: CALIB, placement: 'full', speedCheck: false, engine });
      const opt = await engine.optimize(q.model, 'all');
      const ops = opt.graph.nodes.map((n) => n.opType);
      expect(ops.filter((o) => !INT8.has(o))).toEqual([]);
      expect(ops.filter((o) => o === 'QuantizeLinear')).toHaveLength(1);
      expect(opt.graph.nodes.find((n) => n.opType === 'QuantizeLinear')!.inputs[0]!.name).toBe(opt.graph.inputs[0]!.name);
    });
  }
});
