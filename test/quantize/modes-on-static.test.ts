/**
 * The other modes on statically quantized models (8-bit and 16-bit activations): FP16 converts the
 * float parts and leaves every Q/DQ group intact, so ONNX Runtime still fuses the 8-bit ones;
 * dynamic and weight-only find nothing left to quantize and say so.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantize } from '../../src/quantize/quantize.js';
import { UnsupportedOpError } from '../../src/errors.js';
import type { Model } from '../../src/ir/model.js';
import { FIXTURES, TRAINED } from '../helpers.js';
import { runClassifier } from './accuracy.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST_SET = join(FIXTURES, 'data', 'fmnist_test.npz');

async function optimizedOps(m: Model): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'slimnet-ms-'));
  try {
    const s = await engine.createSession(m, { optimizedModelPath: join(dir, 'o.onnx'), graphOptimizationLevel: 'extended' });
    await s.release();
    return loadModel(join(dir, 'o.onnx')).graph.nodes.map((n) => n.opType);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dynamic, weight-only and fp16 on static QDQ models', () => {
  for (const activations of ['uint8', 'uint16'] as const) {
    it(`${activations} activations: fp16 keeps the Q/DQ groups, the others refuse`, async () => {
      const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
      const q = await quantize(vit, { calibration: CALIB, calibSize: 64, activations, placement: 'full', engine });
      const half = await convertToFp16Checked(q.model);
      const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
      const qOps = q.model.graph.nodes.map((n) => n.opType);
      const hOps = half.graph.nodes.map((n) => n.opType);
      expect(count(hOps, 'QuantizeLinear')).toBe(count(qOps, 'QuantizeLinear'));
      expect(count(hOps, 'DequantizeLinear')).toBe(count(qOps, 'DequantizeLinear'));
      if (activations === 'uint8') {
        const fused = (ops: string[]) => ops.filter((o) => /^(QLinear|QGemm|MatMulIntegerToFloat)/.test(o)).length;
        expect(fused(await optimizedOps(half))).toBe(fused(await optimizedOps(q.model)));
      }
      const [a, b] = [await runClassifier(engine, q.model, TEST_SET, { limit: 500 }), await runClassifier(engine, half, TEST_SET, { limit: 500 })];
      expect(Math.abs(a.top1 - b.top1) * 500).toBeLessThanOrEqual(2 + 1e-9); // at most 2 of 500 images
      for (const mode of ['dynamic', 'weight-only'] as const) {
        await expect(quantize(q.model, { mode })).rejects.toThrow(UnsupportedOpError);
        await expect(quantize(q.model, { mode })).rejects.toThrow(/already quantized: its weight comes from a DequantizeLinear/);
      }
    });
  }
});

async function convertToFp16Checked(m: Model): Promise<Model> {
  const r = await quantize(m, { mode: 'fp16', engine });
  expect(r.summary.skipped.some((d) => /inside a Q\/DQ group/.test(d.detail))).toBe(true);
  return r.model;
}
