/**
 * RTN vs GPTQ vs AWQ at 4 bits (block 32, asymmetric) on the small Llama-shaped decoder
 * (fixtures/lm/small, random weights): logit error against float32 and next-token agreement on
 * fixed prompts that are not the calibration prompts (GPTQ's time per layer: gptq-layer-time).
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/onnx/io.js';
import { quantizeWeightOnly, type WeightOnlyOptions } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { runDecoder, nextTokenAgreement, promptDataset, randomTokens } from '../lib/decoder.js';
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { BenchReport, BenchSuite } from '../types.js';

const DECODER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'lm', 'small', 'model.onnx');
const VOCAB = 256;

async function promptLogits(engine: Engine, model: Model, prompts: number[][]): Promise<Float32Array[]> {
  const s = await engine.createSession(model, { intraOpThreads: 1 });
  try {
    const out: Float32Array[] = [];
    for (const p of prompts) out.push((await runDecoder(s, p, 0)).logits);
    return out;
  } finally {
    await s.release();
  }
}

/** Relative L2 error of the logits, and the mean KL(float || quantized) of the next-token distributions. */
function compare(ref: Float32Array[], got: Float32Array[]): { rel: number; kl: number; agree: number } {
  let e = 0, r = 0, kl = 0, positions = 0, agree = 0;
  for (const [i, a] of ref.entries()) {
    const b = got[i]!;
    for (let j = 0; j < a.length; j++) { e += (a[j]! - b[j]!) ** 2; r += a[j]! ** 2; }
    agree += nextTokenAgreement(a, b, VOCAB) * (a.length / VOCAB);
    for (let p = 0; p < a.length / VOCAB; p++, positions++) {
      const lse = (x: Float32Array) => { let m = -Infinity; for (let v = 0; v < VOCAB; v++) m = Math.max(m, x[p * VOCAB + v]!); let s = 0; for (let v = 0; v < VOCAB; v++) s += Math.exp(x[p * VOCAB + v]! - m); return m + Math.log(s); };
      const la = lse(a), lb = lse(b);
      for (let v = 0; v < VOCAB; v++) { const pa = Math.exp(a[p * VOCAB + v]! - la); kl += pa * ((a[p * VOCAB + v]! - la) - (b[p * VOCAB + v]! - lb)); }
    }
  }
  return { rel: Math.sqrt(e / r), kl: kl / positions, agree: agree / positions };
}

export const suite: BenchSuite = {
  name: 'lm-algorithms',
  description: 'RTN vs GPTQ vs AWQ, int4 block 32, on the small Llama-shaped decoder',
  async run({ engine, quick, log }): Promise<BenchReport> {
    const float = loadModel(DECODER);
    const calibration = promptDataset(float, VOCAB, 64, 32, 1);
    const prompts = Array.from({ length: quick ? 4 : 16 }, (_, i) => randomTokens(VOCAB, 24, 1000 + i));
    const ref = await promptLogits(engine, float, prompts);
    const rows: (string | number)[][] = [];
    const metrics: Record<string, number> = {};
    for (const algorithm of ['rtn', 'gptq', 'awq'] as const) {
      log(`${algorithm}`);
      const options: WeightOnlyOptions = { weights: 'int4', blockSize: 32, algorithm, ...(algorithm === 'rtn' ? {} : { calibration, calibSize: 64 }) };
      const t0 = performance.now();
      const q = await quantizeWeightOnly(float, options);
      const seconds = (performance.now() - t0) / 1000;
      const c = compare(ref, await promptLogits(engine, q.model, prompts));
      rows.push([algorithm.toUpperCase(), c.rel, c.kl, c.agree, seconds]);
      metrics[`lm-small.${algorithm}.logit_rel_error`] = c.rel;
      metrics[`lm-small.${algorithm}.kl`] = c.kl;
      metrics[`lm-small.${algorithm}.next_token_agreement`] = c.agree;
    }
    return {
      tables: [
        { title: `small decoder, int4 block 32 asymmetric, ${prompts.length} prompts x 24 tokens (calibration: 64 other prompts x 32)`, columns: ['algorithm', 'logit rel. error', 'KL(float||q)', 'next-token agreement', 'quantize s'], rows },
      ],
      metrics,
      notes: ['random weights (no trained decoder is available offline): the differences are in how well each method preserves the float function, not in text quality'],
    };
  },
};
