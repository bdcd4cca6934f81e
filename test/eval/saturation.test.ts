/** Saturation reports: which int8 ops can overflow int16 pairs without VNNI, and what it costs on this CPU. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { checkSaturation, findSaturationRisk } from '../../src/eval/saturation.js';
import { probeU8S8 } from '../../src/target/int8-probe.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import type { Feeds } from '../../src/runtime/types.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

async function images(n: number): Promise<Feeds> {
  for await (const b of new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz')).batches(n, { limit: n })) return b.feeds;
  throw new Error('no data');
}

describe('saturation report', () => {
  it('finds the int8 weights that can saturate, and none in a model written for such a CPU', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const plain = (await quantizeDynamic(vit, { target: 'x86-vnni', engine })).model;
    const risk = findSaturationRisk(plain);
    expect(risk.length).toBeGreaterThan(0);
    expect(risk.every((r) => r.op === 'DynamicQuantizeMatMul' && r.channels > 0)).toBe(true);
    const safe = (await quantizeDynamic(vit, { target: 'x86-avx2', engine })).model;
    expect(findSaturationRisk(safe)).toEqual([]);
    expect((await checkSaturation(safe, engine, [await images(4)])).message).toBeUndefined();
  });

  it('says what saturation does on this CPU: measured against exact arithmetic where it happens, a warning for other CPUs where not', async () => {
    const vit = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const plain = (await quantizeDynamic(vit, { target: 'x86-vnni', weights: 'int8', engine })).model;
    const report = await checkSaturation(plain, engine, [await images(8)]);
    const saturates = !(await probeU8S8(engine)).u8s8Exact;
    expect(report.hostSaturates).toBe(saturates);
    if (saturates) {
      expect(report.message).toMatch(/saturate on this CPU .* output SQNR \d+\.\d dB against exact arithmetic\. To fix, requantize with slimnet quantize --target/);
      const m = report.measured as { sqnrDb: number };
      expect(m.sqnrDb).toBeLessThan(40);
    } else {
      expect(report.measured).toBeUndefined();
      expect(report.message).toMatch(/can saturate on x86 CPUs without VNNI .* exact on this CPU/);
    }
  });
});
