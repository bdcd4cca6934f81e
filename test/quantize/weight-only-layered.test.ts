/**
 * Layer-by-layer calibration (calibrate/layered) for GPTQ and AWQ on the small Llama-shaped decoder:
 * the model runs in parts, each part on what the parts before it handed on, and the statistics
 * and the quantized model come out as from one run of the whole model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { forEachTensor } from '../../src/onnx/tensors.js';
import { Engine } from '../../src/runtime/engine.js';
import { planParts } from '../../src/calibrate/layered/plan-parts.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { promptDataset } from '../../bench/lib/decoder.js';
import { DECODER } from './small-decoder.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

describe('layer-by-layer calibration', () => {
  const float = loadModel(DECODER);
  const calibration = promptDataset(float, 256, 32, 24, 1);

  it('cuts where the fewest activations cross: every node in one part, in order, each attention block whole', () => {
    // About one projection's weights per part: the smallest parts the planner makes.
    const parts = planParts(float.graph, 60_000);
    expect(parts.length).toBeGreaterThan(6);
    expect(parts.flatMap((p) => p.nodes)).toEqual([...float.graph.nodes]);
    const partOf = (name: string) => parts.findIndex((p) => p.nodes.some((n) => n.name === name));
    for (const layer of [0, 1]) {
      const attention = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((p) => partOf(`/layers.${layer}/self_attn/${p}/MatMul`));
      expect(new Set(attention).size, `layer ${layer}: ${attention.join(',')}`).toBe(1);
    }
    // What a part hands on is read by a later part, and every part reads only what came before it.
    const available = new Set(float.graph.inputs.map((v) => v.name));
    for (const [i, p] of parts.entries()) {
      for (const r of p.reads) expect(available.has(r), `part ${i} reads ${r}`).toBe(true);
      for (const h of p.handsOn) {
        expect(parts.slice(i + 1).some((q) => q.reads.includes(h)), h).toBe(true);
        available.add(h);
      }
    }
  });

  it('GPTQ writes the same bytes as with the whole model in one run, and the summary says how it ran', async () => {
    const whole = await quantizeWeightOnly(float, { algorithm: 'gptq', calibration, engine, partBytes: 0 });
    const layered = await quantizeWeightOnly(float, { algorithm: 'gptq', calibration, engine, partBytes: 60_000 });
    expect(whole.summary.notes.some((n) => /layer by layer/.test(n))).toBe(false);
    expect(layered.summary.notes.find((n) => /layer by layer/.test(n))).toMatch(/ran in \d+ parts/);
    expect(Buffer.compare(Buffer.from(modelToBytes(layered.model)), Buffer.from(modelToBytes(whole.model)))).toBe(0);
  });

  it('AWQ too, when the parts keep each MLP whole (its scales fold into the up projection)', async () => {
    const whole = await quantizeWeightOnly(float, { algorithm: 'awq', calibration, engine, partBytes: 0 });
    const layered = await quantizeWeightOnly(float, { algorithm: 'awq', calibration, engine, partBytes: 250_000 });
    expect(layered.summary.notes.find((n) => /layer by layer/.test(n))).toMatch(/ran in 3 parts/);
    expect(layered.summary.quantized.filter((d) => /folded into .*up_proj/.test(d.detail)).length).toBe(2);
    expect(Buffer.compare(Buffer.from(modelToBytes(layered.model)), Buffer.from(modelToBytes(whole.model)))).toBe(0);
  });

  it('AWQ keeps no weight read from external data once it is quantized (memory stays flat in the number of layers)', async () => {
    const input = loadModel(DECODER);
    await quantizeWeightOnly(input, { algorithm: 'awq', calibration, engine, partBytes: 250_000 });
    const cached: string[] = [];
    forEachTensor(input, (t) => { if (t.externalLocation && !t.isExternal) cached.push(t.name); });
    expect(cached).toEqual([]);
  });
});
