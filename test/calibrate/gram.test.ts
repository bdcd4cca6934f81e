/** The Gram matrices computed inside ONNX Runtime against im2col and X^T X computed in JS. */
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/runtime/engine.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { collectStatistics } from '../../src/calibrate/stats/collector.js';
import { ArrayDataset } from '../../src/calibrate/data/array-dataset.js';
import type { ConvPatches } from '../../src/calibrate/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const C = 4, H = 7, W = 6, N = 5;

function model(conv: ConvPatches) {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['n', C, H, W]);
  const taps = conv.kernel[0]! * conv.kernel[1]!;
  const w = b.initializer('w', Tensor.float([6, C / conv.group, ...conv.kernel], new Rng(1).normals((6 * C * taps) / conv.group)));
  b.output(b.op('Relu', [b.op('Conv', [x, w], { kernel_shape: conv.kernel, strides: conv.strides, pads: conv.pads, dilations: conv.dilations, group: conv.group })]));
  return b.build();
}

/** Reference: every patch the Conv multiplies, per group, with a trailing 1. */
function im2colGram(x: Float32Array, c: ConvPatches, bias: boolean): Float64Array[] {
  const [kh, kw] = c.kernel as [number, number];
  const Ho = Math.floor((H + c.pads[0]! + c.pads[2]! - c.dilations[0]! * (kh - 1) - 1) / c.strides[0]!) + 1;
  const Wo = Math.floor((W + c.pads[1]! + c.pads[3]! - c.dilations[1]! * (kw - 1) - 1) / c.strides[1]!) + 1;
  const cg = C / c.group;
  const K = cg * kh * kw + (bias ? 1 : 0);
  return Array.from({ length: c.group }, (_, g) => {
    const gram = new Float64Array(K * K);
    const p = new Float64Array(K);
    for (let n = 0; n < N; n++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
      p.fill(0);
      if (bias) p[K - 1] = 1;
      for (let ch = 0; ch < cg; ch++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const yy = oy * c.strides[0]! - c.pads[0]! + i * c.dilations[0]!;
        const xx = ox * c.strides[1]! - c.pads[1]! + j * c.dilations[1]!;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) p[(ch * kh + i) * kw + j] = x[((n * C + g * cg + ch) * H + yy) * W + xx]!;
      }
      for (let a = 0; a < K; a++) for (let b2 = 0; b2 < K; b2++) gram[a * K + b2]! += p[a]! * p[b2]!;
    }
    return gram;
  });
}

describe('gram statistic (in the runtime)', () => {
  const engine = new Engine();
  afterAll(() => engine.close());
  const data = new Rng(2).normals(N * C * H * W);
  const ds = () => new ArrayDataset('memory', { x: { type: 'float32', dims: [N, C, H, W], data } });
  it('equals the im2col Gram matrix of a Conv (strides, asymmetric pads, dilation, groups, bias column)', async () => {
    for (const conv of [
      { kernel: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 1], group: 1 },
      { kernel: [3, 3], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2], group: 2 },
      { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 },
    ]) {
      const reqs = [false, true].map((bias) => ({ tensor: 'x', kind: 'gram' as const, features: C, conv, bias }));
      const stats = await collectStatistics(model(conv), ds(), reqs, { engine, data: { batchSize: 2 } });
      for (const req of reqs) {
        const s = stats.get(req)!;
        const ref = im2colGram(data, conv, req.bias);
        expect(s.groups).toBe(conv.group);
        const K = s.size;
        for (let g = 0; g < conv.group; g++) {
          for (let i = 0; i < K * K; i++) expect(s.gram[g * K * K + i]).toBeCloseTo(ref[g]![i]!, 3);
        }
      }
    }
  });

  it('equals X^T X of the rows of the last axis', async () => {
    const req = { tensor: 'x', kind: 'gram' as const, features: W };
    const s = (await collectStatistics(model({ kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }), ds(), [req], { engine })).get(req)!;
    for (let i = 0; i < W; i++) {
      for (let j = 0; j < W; j++) {
        let ref = 0;
        for (let r = 0; r < N * C * H; r++) ref += data[r * W + i]! * data[r * W + j]!;
        expect(s.gram[i * W + j]).toBeCloseTo(ref, 3);
      }
    }
    // The rows it summed, over batches of uneven size (2 + 2 + 1 samples of C x H rows each).
    expect(s.gram.length).toBe(W * W);
    expect(s.rows).toBe(N * C * H);
    const batched = (await collectStatistics(model({ kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }), ds(), [req], { engine, data: { batchSize: 2 } })).get(req)!;
    expect(batched.batches).toBe(3);
    expect(batched.rows).toBe(N * C * H);
  });
});
