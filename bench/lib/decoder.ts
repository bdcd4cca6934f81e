/**
 * Running decoder language models (input_ids + past_key_values.* -> logits + present.*) with the
 * KV cache, as onnxruntime-node users run them: a prefill of the prompt, then one token per run
 * with the previous run's present.* fed back as past_key_values.*. Shared by the decoder tests and
 * the token bench.
 */
import type { Feeds, Session, TensorData } from '../../src/runtime/types.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { ArrayDataset } from '../../src/calibrate/data/array-dataset.js';
import { mulberry32 } from '../../src/random.js';
import type { Model } from '../../src/ir/model.js';

/** The empty cache: every past_key_values.* input with 0 past positions (batch 1). */
export function emptyCache(session: Session): Feeds {
  const feeds: Feeds = {};
  for (const input of session.info.inputs) {
    if (!input.name.startsWith('past_key_values.')) continue;
    const shape = input.shape ?? [];
    // [batch, kv_heads, past_sequence, head_dim]: the two fixed dims come from the model.
    const dims = shape.map((d, i) => (i === 0 ? 1 : typeof d === 'number' ? d : 0));
    feeds[input.name] = { type: 'float32', dims, data: new Float32Array(0) };
  }
  return feeds;
}

function idsFeed(tokens: readonly number[]): TensorData {
  return { type: 'int64', dims: [1, tokens.length], data: BigInt64Array.from(tokens.map(BigInt)) };
}

/** The cache after a run: each present.* output becomes the matching past_key_values.* input. */
function nextCache(out: Record<string, TensorData>): Feeds {
  const cache: Feeds = {};
  for (const [name, t] of Object.entries(out)) if (name.startsWith('present.')) cache[`past_key_values.${name.slice('present.'.length)}`] = t;
  return cache;
}

function argmaxLast(logits: TensorData): number {
  const v = asFloat32(logits);
  const vocab = logits.dims[logits.dims.length - 1]!;
  const last = v.subarray(v.length - vocab);
  let best = 0;
  for (let i = 1; i < vocab; i++) if (last[i]! > last[best]!) best = i;
  return best;
}

export interface DecoderRun {
  /** Logits of every position: the prompt's, then each decoded token's (concatenated). */
  logits: Float32Array;
  /** The greedy tokens generated after the prompt. */
  tokens: number[];
  prefillMs: number;
  /** Time of each single-token decode step. */
  decodeMs: number[];
}

/**
 * Prefills `prompt`, then decodes `steps` tokens greedily, or, with `forced`, feeds those tokens
 * instead of the argmax (so float and quantized models see the same inputs and their logits
 * compare position by position).
 */
export async function runDecoder(session: Session, prompt: readonly number[], steps: number, forced?: readonly number[]): Promise<DecoderRun> {
  const parts: Float32Array[] = [];
  const tokens: number[] = [];
  let t0 = performance.now();
  let out = await session.run({ input_ids: idsFeed(prompt), ...emptyCache(session) });
  const prefillMs = performance.now() - t0;
  const decodeMs: number[] = [];
  for (let s = 0; ; s++) {
    parts.push(Float32Array.from(asFloat32(out.logits!)));
    const next = argmaxLast(out.logits!);
    tokens.push(next);
    if (s === steps) break;
    const feed = forced?.[s] ?? next;
    t0 = performance.now();
    out = await session.run({ input_ids: idsFeed([feed]), ...nextCache(out) });
    decodeMs.push(performance.now() - t0);
  }
  const logits = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { logits.set(p, at); at += p.length; }
  return { logits, tokens: tokens.slice(0, steps), prefillMs, decodeMs };
}

/** Fraction of positions whose argmax token agrees between two logit runs of the same vocabulary. */
export function nextTokenAgreement(a: Float32Array, b: Float32Array, vocab: number): number {
  let same = 0;
  const n = a.length / vocab;
  for (let p = 0; p < n; p++) {
    let ia = 0, ib = 0;
    for (let i = 1; i < vocab; i++) {
      if (a[p * vocab + i]! > a[p * vocab + ia]!) ia = i;
      if (b[p * vocab + i]! > b[p * vocab + ib]!) ib = i;
    }
    if (ia === ib) same++;
  }
  return same / n;
}

/**
 * Calibration data for a decoder: `samples` prompts of `length` tokens drawn uniformly from the
 * vocabulary (seeded), each with an empty cache, as a Dataset for GPTQ/AWQ's X^T X statistics.
 */
export function promptDataset(model: Model, vocab: number, samples: number, length: number, seed: number): ArrayDataset {
  const next = mulberry32(seed);
  return tokenDataset(model, Array.from({ length: samples * length }, () => Math.floor(next() * vocab)), samples, length, 'random prompts');
}

/** `samples` consecutive windows of `length` tokens from `tokens` (e.g. a text's bytes), each with an empty cache. */
export function tokenDataset(model: Model, tokens: ArrayLike<number>, samples: number, length: number, source: string): ArrayDataset {
  if (tokens.length < samples * length) throw new Error(`${source}: ${tokens.length} tokens, need ${samples} x ${length}`);
  const arrays: Record<string, TensorData> = {
    input_ids: { type: 'int64', dims: [samples, length], data: BigInt64Array.from({ length: samples * length }, (_, i) => BigInt(tokens[i]!)) },
  };
  for (const v of model.graph.inputs) {
    if (!v.name.startsWith('past_key_values.')) continue;
    const dims = (v.shape ?? []).map((d, i) => (i === 0 ? samples : typeof d === 'number' ? d : 0));
    arrays[v.name] = { type: 'float32', dims, data: new Float32Array(0) };
  }
  return new ArrayDataset(source, arrays);
}

/**
 * Perplexity of `tokens` (a held-out text) in consecutive windows of `window` tokens, each run as
 * one prefill with an empty cache: exp of the mean next-token cross-entropy over every position
 * but each window's last. Also returns the logits, for agreement against another model.
 */
export async function windowPerplexity(session: Session, tokens: ArrayLike<number>, window: number, windows: number): Promise<{ perplexity: number; logits: Float32Array[] }> {
  let nll = 0, count = 0;
  const logits: Float32Array[] = [];
  for (let w = 0; w < windows; w++) {
    const ids = Array.from({ length: window }, (_, i) => tokens[w * window + i]!);
    const out = await session.run({ input_ids: idsFeed(ids), ...emptyCache(session) });
    const v = Float32Array.from(asFloat32(out.logits!));
    const vocab = v.length / window;
    logits.push(v);
    for (let p = 0; p + 1 < window; p++) {
      let m = -Infinity;
      for (let i = 0; i < vocab; i++) m = Math.max(m, v[p * vocab + i]!);
      let sum = 0;
      for (let i = 0; i < vocab; i++) sum += Math.exp(v[p * vocab + i]! - m);
      nll += m + Math.log(sum) - v[p * vocab + ids[p + 1]!]!;
      count++;
    }
  }
  return { perplexity: Math.exp(nll / count), logits };
}

/** Prompts of `length` tokens drawn uniformly from the vocabulary (seeded). */
export function randomTokens(vocab: number, length: number, seed: number): number[] {
  const next = mulberry32(seed);
  return Array.from({ length }, () => Math.floor(next() * vocab));
}
