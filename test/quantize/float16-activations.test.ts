/**
 * Weight-only with float16 activations ("q4f16", as transformers.js ships decoders): MatMulNBits and
 * GatherBlockQuantized read and write float16 with float16 scales, the model's inputs and outputs
 * stay float32, and onnxruntime-node runs it with the KV cache as close to float32 as int4 alone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { DataType } from '../../src/ir/data-type.js';
import { inferElemTypes } from '../../src/ir/elem-types.js';
import { OptionError } from '../../src/errors.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { relativeError } from './accuracy.js';
import { slimnet } from '../helpers.js';
import { DECODER, decoderLogits } from './small-decoder.js';
import type { Model } from '../../src/ir/model.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const logits = (model: Model) => decoderLogits(engine, model);

describe('weight-only --activations float16 (q4f16)', () => {
  const float = loadModel(DECODER);

  it('MatMulNBits and GatherBlockQuantized compute in float16, the I/O stays float32, ORT runs it with the KV cache', async () => {
    const q4 = await quantizeWeightOnly(float, { engine });
    const half = await quantizeWeightOnly(float, { activations: 'float16', engine });
    const m = half.model;
    const types = inferElemTypes(m.graph);
    const weightOps = m.graph.nodes.filter((n) => n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized');
    expect(weightOps.length).toBe(16);
    for (const n of weightOps) {
      expect(types.get(n.output(0)), n.name).toBe(DataType.FLOAT16);
      expect(n.input(2)!.constant!.dataType, `${n.name} scales`).toBe(DataType.FLOAT16);
      if (n.opType === 'MatMulNBits') expect(types.get(n.input(0)!), `${n.name} A`).toBe(DataType.FLOAT16);
    }
    // The norms and the attention arithmetic went to float16 too, not only the weight-only ops.
    expect(m.graph.nodes.filter((n) => n.opType === 'Mul' && types.get(n.output(0)) === DataType.FLOAT16).length).toBeGreaterThan(10);
    for (const v of [...m.graph.inputs, ...m.graph.outputs]) if (types.get(v) !== DataType.INT64) expect(types.get(v), v.name).toBe(DataType.FLOAT);
    expect(half.settings.activations).toBe('float16');
    expect(half.summary.notes!.some((t) => /^float16 activations \(q4f16\): \d+ nodes compute in float16, 16 of them MatMulNBits\/GatherBlockQuantized/.test(t))).toBe(true);
    expect(half.summary.sizeAfterBytes).toBeLessThan(q4.summary.sizeAfterBytes);
    const ref = await logits(float);
    const l4 = await logits(q4.model);
    const l16 = await logits(half.model);
    // float16 rounding is small next to int4's: measured 0.017 from the int4 model with float32
    // activations (accuracy_level 4, x86), whose own error against float32 is 0.16.
    expect(relativeError(l16, l4)).toBeLessThan(0.1);
    expect(relativeError(l16, ref)).toBeLessThan(0.3);
  });

  it('CLI: --activations float16 is kept in the recipe, which replays byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-q4f16-'));
    try {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      const recipe = join(dir, 'r.json');
      const r = slimnet(['quantize', DECODER, '-o', join(dir, 'a', 'q.onnx'), '--mode', 'weight-only', '--activations', 'float16', '--save-recipe', recipe, '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(readFileSync(recipe, 'utf8')) as { steps: { quantize: { options: { activations?: string } } }[] }).steps[0]!.quantize.options.activations).toBe('float16');
      const again = slimnet(['quantize', DECODER, '-o', join(dir, 'b', 'q.onnx'), '--recipe', recipe, '-q']);
      expect(again.code, again.stderr).toBe(0);
      for (const f of ['q.onnx', 'q.onnx.data']) expect(Buffer.compare(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f))), f).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses the QDQ form and unknown types with one line', async () => {
    await expect(quantizeWeightOnly(float, { activations: 'float16', format: 'qdq' })).rejects.toThrow(/--activations float16 needs --format matmulnbits/);
    await expect(quantizeWeightOnly(float, { activations: 'bfloat16' as never })).rejects.toThrow(OptionError);
    await expect(quantizeWeightOnly(float, { activations: 'bfloat16' as never })).rejects.toThrow(/--activations 'bfloat16' is not a weight-only activation type; use float32 \(default\) or float16/);
  });
});
