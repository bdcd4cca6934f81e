/**
 * Opt-in (npm run test:large; build the model first with `sh fixtures/lm/build.sh large --layers 2`
 * and `python3 fixtures/lm/external.py fixtures/generated/lm-large-2/model.onnx`, 600 MB): the
 * streaming weight-only path (external weights read one by one, quantized, parked in a spill file)
 * writes the same bytes as the in-memory path on a decoder with the 1.1B model's shapes
 * (TinyLlama widths: hidden 2048, MLP 5632, 32 heads over 4 KV heads, vocabulary 32000), 2 layers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, loadModelFromBytes, modelToBytes, saveModel } from '../../src/onnx/io.js';
import { SpillFile } from '../../src/onnx/spill.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { FIXTURES } from '../helpers.js';

const MODEL = join(FIXTURES, 'generated', 'lm-large-2', 'model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'slimnet-lm-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weight-only streaming at the 1.1B decoder\'s shapes (2 layers)', () => {
  it.skipIf(!existsSync(MODEL))('streamed and in-memory outputs are byte-identical; the spill file is gone afterwards', async () => {
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const spill = new SpillFile(join(dir, 'a', 'q.onnx'));
    const streamed = await quantizeWeightOnly(loadModel(MODEL), { spill });
    saveModel(streamed.model, join(dir, 'a', 'q.onnx'), { externalData: true });
    spill.dispose();
    const inMemory = await quantizeWeightOnly(loadModelFromBytes(modelToBytes(loadModel(MODEL))), {});
    saveModel(inMemory.model, join(dir, 'b', 'q.onnx'), { externalData: true });
    for (const f of ['q.onnx', 'q.onnx.data']) expect(Buffer.compare(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f))), f).toBe(0);
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['q.onnx', 'q.onnx.data']);
    // 7 projections per layer and the tied head as MatMulNBits, the table as GatherBlockQuantized.
    expect(streamed.summary.quantized.filter((q) => q.op === 'com.microsoft.MatMulNBits')).toHaveLength(15);
  }, 600_000);
});
