/** Prune, then quantize: every quantization mode keeps the pruned zeros and the pruned shapes. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { prune } from '../../src/prune/prune.js';
import { quantize } from '../../src/quantize/quantize.js';
import { Engine } from '../../src/runtime/engine.js';
import { loadModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/ir/model.js';
import type { Node } from '../../src/ir/node.js';
import { DataType } from '../../src/ir/data-type.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { TRAINED_CASES } from '../quantize/feeds.js';

const engine = new Engine();
afterAll(() => engine.close());
const calib = join(FIXTURES, 'data', 'fmnist_calib.npz');

/** Zeros among the integer weight codes a node reads: codes equal to their zero point decode to 0. */
function zeroCodes(model: Model, op: string, zeroPoint: (n: Node) => number | Uint8Array | Int8Array): number {
  let zeros = 0;
  for (const n of model.graph.nodes) {
    if (n.opType !== op) continue;
    const w = op === 'DequantizeLinear' ? n.input(0)!.constant : n.input(1)!.constant;
    if (!w || (w.dataType !== DataType.INT8 && w.dataType !== DataType.UINT8) || w.size < 64) continue;
    const zp = zeroPoint(n);
    const codes = w.data() as Int8Array | Uint8Array;
    const perChannel = typeof zp === 'number' ? 0 : codes.length / zp.length;
    for (let i = 0; i < codes.length; i++) if (codes[i] === (typeof zp === 'number' ? zp : zp[Math.floor(i / perChannel)]!)) zeros++;
  }
  return zeros;
}

describe('prune, then quantize', () => {
  it('static int8 (QDQ) keeps every pruned zero', async () => {
    const m = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const p = await prune(m, { sparsity: 0.5, engine });
    const pruned = p.summary.layers.reduce((s, l) => s + l.zeros, 0);
    const q = await quantize(p.model, { calibration: calib, calibSize: 32, placement: 'full', speedCheck: false, engine });
    const dqZeros = zeroCodes(q.model, 'DequantizeLinear', (n) => {
      const zp = n.input(2)?.constant;
      return zp ? (zp.size === 1 ? Number(zp.toNumbers()[0]) : (zp.data() as Int8Array)) : 0;
    });
    expect(dqZeros).toBeGreaterThanOrEqual(pruned);
  });

  it('weight-only GPTQ and RTN keep the zeros of a pruned MatMul', async () => {
    const m = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const p = await prune(m, { sparsity: 0.5, engine });
    const prunedLayers = new Set(p.summary.layers.filter((l) => l.op === 'MatMul').map((l) => l.node));
    const pruned = p.summary.layers.filter((l) => prunedLayers.has(l.node)).reduce((s, l) => s + l.zeros, 0);
    for (const algorithm of ['rtn', 'gptq'] as const) {
      const q = await quantize(p.model, { mode: 'weight-only', weights: 'int8', symmetric: true, algorithm, calibration: calib, calibSize: 32, engine });
      // Symmetric int8 codes carry the implicit zero point 128.
      expect(zeroCodes(q.model, 'MatMulNBits', () => 128), algorithm).toBeGreaterThanOrEqual(pruned);
    }
  });

  it('quantizing a channel-pruned model keeps its shapes (static, dynamic, fp16) and it still runs', async () => {
    const c = TRAINED_CASES.find((x) => x.name === 'resnet_bn')!;
    const p = await prune(loadModel(c.path), { sparsity: 0.3, method: 'channel', engine });
    // Weight shapes of every Conv (through its DequantizeLinear once quantized), in any node order.
    const convDims = (m: Model) => m.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => JSON.stringify(n.input(1)!.producer?.input(0)?.constant?.dims ?? n.input(1)!.constant?.dims)).sort();
    const before = convDims(p.model);
    for (const options of [{ calibration: calib, calibSize: 32, placement: 'full' as const, speedCheck: false }, { mode: 'dynamic' as const }, { mode: 'fp16' as const }]) {
      const q = await quantize(p.model, { ...options, engine });
      const s = await engine.createSession(q.model);
      const out = Object.values(await s.run(c.feeds()))[0]!;
      await s.release();
      expect(out.dims).toEqual([16, 10]);
      if (!('mode' in options)) expect(convDims(q.model)).toEqual(before);
    }
  });
});
