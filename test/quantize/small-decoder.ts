/** fixtures/lm/small (random Llama-shaped decoder, KV cache, tied head) and the fixed prompt its tests run. */
import { join } from 'node:path';
import { runDecoder } from '../../bench/lib/decoder.js';
import { FIXTURES } from '../helpers.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { Model } from '../../src/ir/model.js';

export const DECODER = join(FIXTURES, 'lm', 'small', 'model.onnx');
export const PROMPT = [1, 17, 42, 99, 5, 200, 31, 64];
export const FORCED = [7, 128, 3, 250, 19, 88];

/** The logits of the prompt and of the forced tokens decoded one by one with the KV cache. */
export async function decoderLogits(engine: Engine, model: Model): Promise<Float32Array> {
  const s = await engine.createSession(model);
  try {
    return (await runDecoder(s, PROMPT, FORCED.length, FORCED)).logits;
  } finally {
    await s.release();
  }
}
