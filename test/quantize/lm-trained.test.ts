/**
 * The trained byte-level decoder (fixtures/lm/trained: decoder.py's architecture trained by
 * train.py on Debian's license texts): its held-out perplexity in onnxruntime-node, float32 and
 * int4 RTN (block 32). The GPTQ/AWQ comparison lives in the lm-algorithms bench.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { windowPerplexity } from '../../bench/lib/decoder.js';
import { FIXTURES } from '../helpers.js';
import type { Model } from '../../src/ir/model.js';

const DIR = join(FIXTURES, 'lm', 'trained');
const HELD_OUT = readFileSync(join(DIR, 'heldout.bin'));
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

async function perplexity(model: Model): Promise<number> {
  const s = await engine.createSession(model);
  try {
    // 8 windows x 64 bytes of held-out text: enough for a stable number, fast.
    return (await windowPerplexity(s, HELD_OUT, 64, 8)).perplexity;
  } finally {
    await s.release();
  }
}

describe('trained byte-level decoder', () => {
  const float = loadModel(join(DIR, 'model.onnx'));
  const floatPerplexity = perplexity(float);

  it('predicts held-out text far better than uniform over 256 bytes', async () => {
    expect(await floatPerplexity).toBeLessThan(20);
  });

  it('int4 RTN block 32 keeps the held-out perplexity close to float32', async () => {
    const { model } = await quantizeWeightOnly(float, { weights: 'int4', blockSize: 32 });
    const q = await perplexity(model);
    // A broken quantizer (wrong scales, wrong block order) lands near 256; int4 costs a few percent.
    expect(q).toBeLessThan((await floatPerplexity) * 1.25);
  });
});
