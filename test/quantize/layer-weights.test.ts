/**
 * Per-layer bits and block size in weight-only mode (--layer-weights): on the Llama-shaped decoder
 * (fixtures/lm/small), the rules reach MatMulNBits, the embedding table and the tied head, ORT runs
 * the mixed model, the CLI form round-trips through a recipe, and bad rules fail with one clear line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { OptionError } from '../../src/errors.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { parseLayerWeights } from '../../src/quantize/weight-only/layer-weights.js';
import { parsePipeline } from '../../src/recipe/pipeline/parse.js';
import { promptDataset } from '../../bench/lib/decoder.js';
import { slimnet } from '../helpers.js';
import { relativeError } from './accuracy.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { mulberry32 } from '../../src/random.js';
import type { Model } from '../../src/ir/model.js';
import { DECODER, decoderLogits } from './small-decoder.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const logits = (model: Model) => decoderLogits(engine, model);

/** bits:block_size of every weight-only node, by node name. */
function layout(m: Model): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of m.graph.nodes) if (n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized') out[n.name] = `${n.getInt('bits', 4)}:${n.getInt('block_size', 0)}`;
  return out;
}

describe('weight-only --layer-weights', () => {
  const float = loadModel(DECODER);
  const reference = logits(float);

  it('down_proj in 8 bits: exactly the two down projections get bits 8, the rest 4, and ORT runs it; 8-bit layers move the logits toward float', async () => {
    const all4 = await quantizeWeightOnly(float, {});
    const mixed = await quantizeWeightOnly(float, { layerWeights: [{ match: 'down_proj', bits: 8 }] });
    const l = layout(mixed.model);
    const eight = Object.keys(l).filter((k) => l[k]!.startsWith('8:')).sort();
    expect(eight).toEqual(['/layers.0/down_proj/MatMul', '/layers.1/down_proj/MatMul']);
    expect(Object.keys(l).length).toBe(16);
    for (const [k, v] of Object.entries(l)) if (!eight.includes(k)) expect(v, k).toBe('4:32');
    // The summary says the layer's own bits, and which rule chose them.
    const down = mixed.summary.quantized.find((d) => d.node === '/layers.0/down_proj/MatMul')!;
    expect(down.detail).toMatch(/^uint8 weights \(--layer-weights down_proj=int8\) \[256x128\], block 32/);
    expect(mixed.summary.quantized.find((d) => d.node === '/layers.0/up_proj/MatMul')!.detail).toMatch(/^uint4 weights \[128x256\]/);
    expect(mixed.settings.layerWeights).toBe('down_proj=int8');
    const ref = await reference;
    const e4 = relativeError(await logits(all4.model), ref);
    expect(relativeError(await logits(mixed.model), ref)).toBeLessThan(0.3);
    // On this random model the down projections add little of the int4 error (measured: all-int4
    // 0.161, down_proj int8 0.168 on this prompt, 0.192 vs 0.197 on another), so the end-to-end
    // checks use the layers that carry it: the tied table in 8 bits (measured 0.113), and an
    // int8 model with only the down projections in 4 bits (0.042, all-int8 0.022).
    const table8 = await quantizeWeightOnly(float, { layerWeights: [{ match: 'embed_tokens', bits: 8 }] });
    expect(relativeError(await logits(table8.model), ref)).toBeLessThan(0.85 * e4);
    const all8 = await quantizeWeightOnly(float, { weights: 'int8' });
    const down4 = await quantizeWeightOnly(float, { weights: 'int8', layerWeights: [{ match: 'down_proj', bits: 4 }] });
    const e8 = relativeError(await logits(all8.model), ref);
    const eDown4 = relativeError(await logits(down4.model), ref);
    expect(eDown4).toBeGreaterThan(e8);
    expect(eDown4).toBeLessThan(0.5 * e4);
  });

  it('the tied table: a rule on the weight name reaches the embedding Gather and the LM head, one on the head node only the head', async () => {
    const both = await quantizeWeightOnly(float, { layerWeights: [{ match: 'embed_tokens\\.weight', bits: 8, blockSize: 64 }] });
    const lb = layout(both.model);
    expect(lb['/embed_tokens/Gather']).toBe('8:64');
    expect(lb['/Gemm']).toBe('8:64');
    expect(both.summary.quantized.find((d) => d.node === '/embed_tokens/Gather')!.detail).toMatch(/^uint8 embedding table \(--layer-weights embed_tokens\\\.weight=int8:64\) \[256x128\], block 64/);
    const head = await quantizeWeightOnly(float, { layerWeights: [{ match: '^/Gemm$', bits: 8 }, { match: 'proj', blockSize: 64 }, { match: 'down_proj', bits: 8 }] });
    const lh = layout(head.model);
    expect(lh['/Gemm']).toBe('8:32');
    expect(lh['/embed_tokens/Gather']).toBe('4:32');
    // First match wins: down_proj is caught by 'proj' (block 64, 4 bits) before its own rule.
    expect(lh['/layers.0/down_proj/MatMul']).toBe('4:64');
    expect(head.summary.warnings.some((w) => w.includes('--layer-weights down_proj=int8 matched no quantized node'))).toBe(true);
    const ref = await reference;
    for (const m of [both.model, head.model]) expect(relativeError(await logits(m), ref)).toBeLessThan(0.3);
  });

  it('GPTQ and AWQ quantize each layer with its own bits and block size', async () => {
    const calibration = promptDataset(float, 256, 8, 16, 1);
    const layerWeights = [{ match: 'down_proj', bits: 8 as const }, { match: 'up_proj', blockSize: 64 }];
    const rtn = layout((await quantizeWeightOnly(float, { layerWeights })).model);
    const ref = await reference;
    for (const algorithm of ['gptq', 'awq'] as const) {
      const r = await quantizeWeightOnly(float, { algorithm, calibration, layerWeights, engine });
      expect(layout(r.model), algorithm).toEqual(rtn);
      expect(rtn['/layers.1/up_proj/MatMul']).toBe('4:64');
      expect(r.summary.quantized.find((d) => d.node === '/layers.1/down_proj/MatMul')!.detail, algorithm).toMatch(new RegExp(`^uint8 weights .*, block 32, ${algorithm.toUpperCase()}`));
      expect(relativeError(await logits(r.model), ref), algorithm).toBeLessThan(0.3);
    }
  });

  it('the QDQ form (opset 21) writes each layer its own type: uint4 and uint8 blocked DequantizeLinear, the same numbers as MatMulNBits', async () => {
    const K = 64, N = 16;
    const rng = mulberry32(3);
    const w = Float32Array.from({ length: K * N }, () => rng() - 0.5);
    const build = () => {
      const b = new GraphBuilder({ opset: 21 });
      const x = b.input('x', DataType.FLOAT, [2, K]);
      const h = b.op('MatMul', [x, b.initializer('w_up', Tensor.float([K, N], w))], {}, { name: 'up/MatMul' });
      b.output(b.op('MatMul', [h, b.initializer('w_down', Tensor.float([N, N], w.slice(0, N * N)))], {}, { name: 'down/MatMul', outputNames: ['y'] }));
      return b.build();
    };
    const feeds = { x: { type: 'float32' as const, dims: [2, K], data: Float32Array.from({ length: 2 * K }, () => rng() - 0.5) } };
    const run = async (m: Model, options = {}) => {
      const s = await engine.createSession(m, options);
      try {
        return (await s.run(feeds)).y!.data as Float32Array;
      } finally {
        await s.release();
      }
    };
    const layerWeights = [{ match: 'down', bits: 8 as const }];
    const qdq = (await quantizeWeightOnly(build(), { format: 'qdq', layerWeights })).model;
    const types = qdq.graph.nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.input(0)!.constant!.dataType);
    expect(types).toEqual([DataType.UINT4, DataType.UINT8]);
    const nbits = (await quantizeWeightOnly(build(), { accuracyLevel: 0, layerWeights })).model;
    expect(relativeError(await run(qdq, { config: { 'session.qdq_matmulnbits_accuracy_level': '0' } }), await run(nbits))).toBeLessThan(1e-5);
  });

  it('bad rules: one OptionError naming --layer-weights and the fix', async () => {
    const cases: [unknown, RegExp][] = [
      [[{ match: 'down_proj(', bits: 8 }], /--layer-weights 'down_proj\(=int8': 'down_proj\(' is not a regular expression .*escape special characters/],
      [[{ match: 'down_proj', bits: 3 }], /--layer-weights 'down_proj=int3': 3 bits is not supported; use int4 or int8/],
      [[{ match: 'down_proj', blockSize: 48 }], /--layer-weights 'down_proj=:48': block size 48: MatMulNBits needs a power of two >= 16/],
      [[{ match: 'down_proj' }], /the rule changes nothing/],
    ];
    for (const [layerWeights, message] of cases) {
      await expect(quantizeWeightOnly(float, { layerWeights } as never)).rejects.toThrow(message);
      await expect(quantizeWeightOnly(float, { layerWeights } as never)).rejects.toBeInstanceOf(OptionError);
    }
  });

  it('parses the CLI form: commas inside a regular expression, block size only, and refuses what is not a rule', () => {
    expect(parseLayerWeights(['down_proj=int8,lm_head=int8:128', 'layers\\.[0-9]{1,2}\\.=:64'])).toEqual([
      { match: 'down_proj', bits: 8 },
      { match: 'lm_head', bits: 8, blockSize: 128 },
      { match: 'layers\\.[0-9]{1,2}\\.', blockSize: 64 },
    ]);
    expect(() => parseLayerWeights(['down_proj=int3'])).toThrow(/--layer-weights 'down_proj=int3': write REGEX=int4, REGEX=int8/);
    expect(() => parseLayerWeights(['down_proj'])).toThrow(/--layer-weights 'down_proj': a rule needs =int4, =int8 or =:BLOCK/);
    // Pipeline files take the same rules, as a list or comma-separated, and name the line of a bad one.
    const p = parsePipeline('model: m.onnx\nsteps:\n  - quantize:\n      mode: weight-only\n      output: q.onnx\n      layer-weights: [down_proj=int8, "^/Gemm$=int8:128"]\n', 'p.yaml');
    expect(p.steps[0]!.options.layerWeights).toEqual([{ match: 'down_proj', bits: 8 }, { match: '^/Gemm$', bits: 8, blockSize: 128 }]);
    expect(() => parsePipeline('model: m.onnx\nsteps:\n  - quantize:\n      mode: weight-only\n      output: q.onnx\n      layer-weights: down_proj=int2\n', 'p.yaml')).toThrow(/^p\.yaml:6: steps\[0\]\.quantize\.layer-weights rule 'down_proj=int2': write REGEX=int4/);
  });

  it('CLI: --layer-weights round-trips through --save-recipe / --recipe byte for byte; a bad regex exits 2 with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-layerbits-'));
    try {
      // The same file name in two directories: the model names its external data file.
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      const a = join(dir, 'a', 'q.onnx');
      const b = join(dir, 'b', 'q.onnx');
      const recipe = join(dir, 'r.json');
      const r = slimnet(['quantize', DECODER, '-o', a, '--mode', 'weight-only', '--layer-weights', 'down_proj=int8', '--layer-weights', 'embed_tokens=int8:64', '--save-recipe', recipe, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const saved = JSON.parse(readFileSync(recipe, 'utf8')) as { steps: { quantize: { options: Record<string, unknown> } }[] };
      expect(saved.steps[0]!.quantize.options.layerWeights).toEqual([{ match: 'down_proj', bits: 8 }, { match: 'embed_tokens', bits: 8, blockSize: 64 }]);
      const again = slimnet(['quantize', DECODER, '-o', b, '--recipe', recipe]);
      expect(again.code, again.stderr).toBe(0);
      for (const f of ['', '.data']) expect(Buffer.compare(readFileSync(a + f), readFileSync(b + f)), f).toBe(0);
      const bad = slimnet(['quantize', DECODER, '-o', join(dir, 'c.onnx'), '--mode', 'weight-only', '--layer-weights', 'down_proj[=int8']);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n').length).toBe(1);
      expect(bad.stderr).toMatch(/--layer-weights 'down_proj\[=int8': 'down_proj\[' is not a regular expression/);
      const foreign = slimnet(['quantize', DECODER, '-o', join(dir, 'c.onnx'), '--mode', 'dynamic', '--layer-weights', 'down_proj=int8']);
      expect(foreign.code).toBe(2);
      expect(foreign.stderr).toMatch(/--layer-weights is not used by --mode dynamic \(it applies to --mode weight-only\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
