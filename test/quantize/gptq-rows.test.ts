/**
 * GPTQ fitted to X^T X of fewer rows than the layer has inputs (a singular H) can round worse than
 * RTN (measured on the 22-layer decoder: docs/quantization-modes.md), so the summary says when the
 * calibration data was that short, and how many rows would do.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { promptDataset } from '../../bench/lib/decoder.js';
import { DECODER } from './small-decoder.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

describe('GPTQ calibration rows', () => {
  const float = loadModel(DECODER);
  const fewRows = (notes: readonly string[]) => notes.find((n) => /fewer calibration rows/.test(n));

  it('says so when the data has fewer rows than a layer has inputs, naming the worst layer and the rows needed', async () => {
    // 4 prompts of 8 tokens: 32 rows, for inputs 128 (attention, gate/up, LM head) and 256 (down) wide.
    const short = await quantizeWeightOnly(float, { algorithm: 'gptq', calibration: promptDataset(float, 256, 4, 8, 1), engine });
    expect(fewRows(short.summary.notes)).toMatch(/GPTQ: 15 of 15 weights .*down_proj\/MatMul: 32 rows for K=256.*at least 256 rows/);
  });

  it('stays quiet when every layer saw more rows than inputs', async () => {
    const enough = await quantizeWeightOnly(float, { algorithm: 'gptq', calibration: promptDataset(float, 256, 16, 24, 1), engine });
    expect(fewRows(enough.summary.notes)).toBeUndefined();
  });
});
