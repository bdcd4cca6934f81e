/**
 * Weight-only quantization of a Llama-shaped decoder (fixtures/lm/small: torch.onnx export with
 * external data, KV cache, tied embedding table / LM head), run with the cache in onnxruntime-node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, loadModelFromBytes, modelToBytes, saveModel } from '../../src/onnx/io.js';
import { forEachTensor } from '../../src/onnx/tensors.js';
import { SpillFile } from '../../src/onnx/spill.js';
import { Engine } from '../../src/runtime/engine.js';
import { DataType } from '../../src/ir/data-type.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { nextTokenAgreement } from '../../bench/lib/decoder.js';
import { slimnet } from '../helpers.js';
import { relativeError } from './accuracy.js';
import type { Model } from '../../src/ir/model.js';
import { DECODER, decoderLogits } from './small-decoder.js';

const VOCAB = 256;
const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

const logits = (model: Model) => decoderLogits(engine, model);

const opCount = (m: Model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;

describe('weight-only on a Llama-shaped decoder', () => {
  const float = loadModel(DECODER);
  const reference = logits(float);

  for (const c of [{ weights: 'int4', maxError: 0.3, agreement: 0.5 }, { weights: 'int8', maxError: 0.025, agreement: 0.85 }] as const) {
    it(`${c.weights} by default quantizes every projection, the embedding table and the tied LM head, and runs with the KV cache`, async () => {
      const { model, summary } = await quantizeWeightOnly(float, { weights: c.weights });
      // 7 projections per layer + the LM head (Gemm transB=1 on the embedding table).
      expect(opCount(model, 'MatMulNBits')).toBe(15);
      expect(opCount(model, 'GatherBlockQuantized')).toBe(1);
      expect(summary.quantized.some((d) => /embedding table \[256x128\]/.test(d.detail))).toBe(true);
      // The float table is gone: both of its consumers read quantized copies.
      const floatTables: string[] = [];
      forEachTensor(model, (t) => { if (t.dataType === DataType.FLOAT && t.size >= VOCAB * 128) floatTables.push(t.name); });
      expect(floatTables).toEqual([]);
      const got = await logits(model);
      const ref = await reference;
      expect(relativeError(got, ref)).toBeLessThan(c.maxError);
      // 14 positions of a random model with outlier channels; measured 0.71 (int4) and 1.0 (int8).
      expect(nextTokenAgreement(got, ref, VOCAB)).toBeGreaterThanOrEqual(c.agreement);
    });
  }

  it('streams: external weights are read, quantized, parked in a spill file and released one by one; the output is byte-identical to the in-memory path', async () => {
    const streamed = loadModel(DECODER);
    const inMemory = loadModelFromBytes(modelToBytes(loadModel(DECODER)));
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-lm-'));
    // The streamed path parks every quantized tensor in a spill file as the CLI does.
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const spill = new SpillFile(join(dir, 'a', 'q.onnx'));
    const a = await quantizeWeightOnly(streamed, { spill });
    let parked = 0;
    forEachTensor(a.model, (t) => { if (t.externalLocation?.location.includes('.spill.')) parked++; });
    expect(parked).toBeGreaterThan(0);
    // Every external tensor of the input is unread again (nothing of the float model stays cached).
    let external = 0;
    forEachTensor(streamed, (t) => { if (t.externalLocation) { external++; expect(t.isExternal, t.name).toBe(true); } });
    expect(external).toBeGreaterThan(10);
    const b = await quantizeWeightOnly(inMemory, {});
    try {
      for (const [name, m] of [['a', a.model], ['b', b.model]] as const) saveModel(m, join(dir, name, 'q.onnx'), { externalData: true });
      for (const f of ['q.onnx', 'q.onnx.data']) expect(Buffer.compare(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f))), f).toBe(0);
      spill.dispose();
      expect(readdirSync(join(dir, 'a')).sort()).toEqual(['q.onnx', 'q.onnx.data']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI counts the external data in the size line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-lm-cli-'));
    try {
      const out = join(dir, 'q4.onnx');
      const r = slimnet(['quantize', DECODER, '-o', out, '--mode', 'weight-only', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { input: { bytes: number }; output: { bytes: number } };
      expect(report.input.bytes).toBe(statSync(DECODER).size + statSync(`${DECODER}_data`).size);
      // Saved with external data like its input; the spill file is gone.
      expect(readdirSync(dir).sort()).toEqual(['q4.onnx', 'q4.onnx.data']);
      // int4 blocks of 32 with float scales: about a sixth of float32, graph structure included.
      expect(report.output.bytes / report.input.bytes).toBeLessThan(0.3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
