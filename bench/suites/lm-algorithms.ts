/**
 * RTN vs GPTQ vs AWQ at 4 bits (block 32, asymmetric):
 * - on the trained byte-level decoder (fixtures/lm/trained, train.py): perplexity on the held-out
 *   license text and next-token agreement with float32, calibrated on the training split;
 * - on the small random decoder (fixtures/lm/small): logit error against float32 and next-token
 *   agreement on fixed prompts that are not the calibration prompts.
 * - per-layer bits (--layer-weights) on the trained decoder: all int4, int4 with the down
 *   projections or the LM head in int8, all int8, and with float16 activations (q4f16):
 *   perplexity and file size.
 * GPTQ's time per layer: gptq-layer-time.
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { quantizeWeightOnly, type WeightOnlyOptions } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { runDecoder, nextTokenAgreement, promptDataset, randomTokens, tokenDataset, windowPerplexity } from '../lib/decoder.js';
import type { Model } from '../../src/ir/model.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { BenchReport, BenchSuite } from '../types.js';

const LM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'lm');
const DECODER = join(LM, 'small', 'model.onnx');
const ALGORITHMS = ['rtn', 'gptq', 'awq'] as const;
const WINDOW = 64;
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

async function heldOut(engine: Engine, model: Model, text: Uint8Array, windows: number) {
  const s = await engine.createSession(model, { intraOpThreads: 1 });
  try {
    return await windowPerplexity(s, text, WINDOW, windows);
  } finally {
    await s.release();
  }
}

/** The trained decoder: held-out perplexity and agreement with float32 for float32 and each algorithm. */
async function trained(engine: Engine, quick: boolean, log: (s: string) => void, metrics: Record<string, number>) {
  const float = loadModel(join(LM, 'trained', 'model.onnx'));
  const text = readFileSync(join(LM, 'trained', 'heldout.bin'));
  const calibration = tokenDataset(float, readFileSync(join(LM, 'trained', 'calibration.bin')), 64, 32, 'license text (training split)');
  const windows = quick ? 16 : Math.floor(text.length / WINDOW);
  const ref = await heldOut(engine, float, text, windows);
  const rows: (string | number)[][] = [['float32', ref.perplexity, 1, 0]];
  metrics['lm-trained.float32.perplexity'] = ref.perplexity;
  for (const algorithm of ALGORITHMS) {
    log(`trained ${algorithm}`);
    const t0 = performance.now();
    const q = await quantizeWeightOnly(float, { weights: 'int4', blockSize: 32, algorithm, ...(algorithm === 'rtn' ? {} : { calibration, calibSize: 64 }) });
    const seconds = (performance.now() - t0) / 1000;
    const got = await heldOut(engine, q.model, text, windows);
    const agree = got.logits.reduce((a, l, i) => a + nextTokenAgreement(ref.logits[i]!, l, VOCAB), 0) / windows;
    rows.push([algorithm.toUpperCase(), got.perplexity, agree, seconds]);
    metrics[`lm-trained.${algorithm}.perplexity`] = got.perplexity;
    metrics[`lm-trained.${algorithm}.next_token_agreement`] = agree;
  }
  return {
    title: `trained byte-level decoder, int4 block 32 asymmetric, held-out license text ${windows} x ${WINDOW} bytes (calibration: 64 x 32 bytes of the training split)`,
    columns: ['model', 'perplexity', 'next-token agreement vs float32', 'quantize s'],
    rows,
  };
}

/** Mixed precision as GPTQModel / NNCF users set it: which layers in int8 buy the most perplexity per byte. */
const LAYER_CHOICES: [string, WeightOnlyOptions][] = [
  ['all int4', { weights: 'int4' }],
  ['int4, down_proj int8', { weights: 'int4', layerWeights: [{ match: 'down_proj', bits: 8 }] }],
  ['int4, LM head int8', { weights: 'int4', layerWeights: [{ match: '^/Gemm$', bits: 8 }] }],
  ['int4, embedding lookup int8', { weights: 'int4', layerWeights: [{ match: '^/embed_tokens/Gather$', bits: 8 }] }],
  ['int4, tied table + head int8', { weights: 'int4', layerWeights: [{ match: 'embed_tokens', bits: 8 }] }],
  ['all int8', { weights: 'int8' }],
  ['all int4, float16 activations (q4f16)', { weights: 'int4', activations: 'float16' }],
  ['int4, tied table + head int8, float16 activations', { weights: 'int4', activations: 'float16', layerWeights: [{ match: 'embed_tokens', bits: 8 }] }],
];

async function layerBits(engine: Engine, quick: boolean, log: (s: string) => void, metrics: Record<string, number>) {
  const float = loadModel(join(LM, 'trained', 'model.onnx'));
  const text = readFileSync(join(LM, 'trained', 'heldout.bin'));
  const windows = quick ? 16 : Math.floor(text.length / WINDOW);
  const ref = await heldOut(engine, float, text, windows);
  const floatBytes = modelToBytes(float).byteLength;
  const rows: (string | number)[][] = [['float32', ref.perplexity, 1, floatBytes, 1]];
  for (const [name, options] of LAYER_CHOICES) {
    log(`trained ${name}`);
    const q = await quantizeWeightOnly(float, { blockSize: 32, algorithm: 'rtn', ...options });
    const got = await heldOut(engine, q.model, text, windows);
    const agree = got.logits.reduce((a, l, i) => a + nextTokenAgreement(ref.logits[i]!, l, VOCAB), 0) / windows;
    const bytes = modelToBytes(q.model).byteLength;
    rows.push([name, got.perplexity, agree, bytes, bytes / floatBytes]);
    const key = name.replace(/[^a-z0-9]+/gi, '_').replace(/_$/, '');
    metrics[`lm-trained.layers.${key}.perplexity`] = got.perplexity;
    metrics[`lm-trained.layers.${key}.bytes`] = bytes;
  }
  return {
    title: `trained byte-level decoder, per-layer bits (--layer-weights), RTN block 32 asymmetric, held-out license text ${windows} x ${WINDOW} bytes`,
    columns: ['model', 'perplexity', 'next-token agreement vs float32', 'file bytes', 'x float'],
    rows,
  };
}

export const suite: BenchSuite = {
  name: 'lm-algorithms',
  description: 'RTN vs GPTQ vs AWQ, int4 block 32, on the trained byte-level decoder (perplexity) and the small random decoder',
  async run({ engine, quick, log }): Promise<BenchReport> {
    const float = loadModel(DECODER);
    const calibration = promptDataset(float, VOCAB, 64, 32, 1);
    const prompts = Array.from({ length: quick ? 4 : 16 }, (_, i) => randomTokens(VOCAB, 24, 1000 + i));
    const ref = await promptLogits(engine, float, prompts);
    const rows: (string | number)[][] = [];
    const metrics: Record<string, number> = {};
    const trainedTable = await trained(engine, quick, log, metrics);
    const layersTable = await layerBits(engine, quick, log, metrics);
    for (const algorithm of ALGORITHMS) {
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
        trainedTable,
        layersTable,
        { title: `small decoder, int4 block 32 asymmetric, ${prompts.length} prompts x 24 tokens (calibration: 64 other prompts x 32)`, columns: ['algorithm', 'logit rel. error', 'KL(float||q)', 'next-token agreement', 'quantize s'], rows },
      ],
      metrics,
      notes: ['the small decoder has random weights: its differences are in how well each method preserves the float function, not in text quality; the trained one (fixtures/lm/trained) has a real perplexity'],
    };
  },
};
