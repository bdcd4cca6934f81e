/**
 * Static quantization end to end on the real runtime: what ORT fuses, how close the outputs stay,
 * how much smaller the file gets, and the trained fixtures' accuracy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { loadModel, modelToBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { quantize } from '../../src/quantize/quantize.js';
import { analyzeLayers } from '../../src/eval/per-layer.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { SYNTHETIC, THIRD_PARTY, TRAINED, FIXTURES, sqnrDb } from '../helpers.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { floatAttr } from '../../src/ir/attribute.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());
const TMP = mkdtempSync(join(tmpdir(), 'slimnet-static-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
let npzCount = 0;

/** Calibration data as a .npz (first axis = samples), the form `--calib` takes. */
function npz(arrays: Feeds): string {
  const path = join(TMP, `calib${npzCount++}.npz`);
  writeFileSync(path, encodeNpz(arrays));
  return path;
}
const CALIB = join(FIXTURES, 'data', 'fmnist_calib.npz');
const TEST = join(FIXTURES, 'data', 'fmnist_test.npz');

async function run(model: Model, feeds: Feeds): Promise<Float32Array> {
  const s = await engine.createSession(model);
  try {
    return Object.values(await s.run(feeds))[0]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function top1(model: Model): Promise<number> {
  const s = await engine.createSession(model);
  let ok = 0;
  let n = 0;
  for await (const b of new NpzDataset(TEST).batches(500)) {
    const logits = Object.values(await s.run(b.feeds))[0]!.data as Float32Array;
    const labels = b.labels!.data as ArrayLike<number | bigint>;
    for (let i = 0; i < b.count; i++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (logits[i * 10 + j]! > logits[i * 10 + best]!) best = j;
      if (best === Number(labels[i])) ok++;
      n++;
    }
  }
  await s.release();
  return ok / n;
}

describe('static int8 on the trained fixtures (committed calibration and test sets)', () => {
  // Accuracy is checked with the placement pinned: a timing-chosen placement depends on the machine.
  for (const [name, maxDrop] of [['resnet_bn', 0.005], ['mobilenet_dw', 0.005], ['vit_tiny', 0.01]] as const) {
    it(`${name}: top-1 drop within ${maxDrop * 100} points with every int8 kernel (placement full), every group fused, size <= 0.3x`, async () => {
      const model = loadModel(join(TRAINED, `${name}.onnx`));
      const r = await quantize(model, { calibration: CALIB, engine, placement: 'full' });
      const [fp, q] = [await top1(model), await top1(r.model)];
      expect(fp - q).toBeLessThanOrEqual(maxDrop);
      const sc = r.speedCheck!;
      expect(sc.planned).toBeGreaterThan(0);
      expect(sc.unfused).toEqual([]);
      expect(r.summary.sizeAfterBytes / r.summary.sizeBeforeBytes).toBeLessThanOrEqual(0.3);
      // The whole file: under 0.3x for the CNNs; ViT-tiny's graph is 4% of its float file.
      expect(modelToBytes(r.model).length / modelToBytes(model).length).toBeLessThanOrEqual(name === 'vit_tiny' ? 0.335 : 0.3);
      // Every node is accounted for: quantized/folded/shared or float with a reason.
      const nodes = r.plan.nodes.length;
      expect(r.summary.quantized.length + r.summary.skipped.length).toBe(nodes);
      for (const s of r.summary.skipped) expect(s.detail.length).toBeGreaterThan(10);
      // The target this machine is, with weights stored so that its kernels are exact.
      expect(r.plan.notes[0]).toMatch(/^target (x86|arm64)/);
      expect(r.plan.weights.every((w) => w.channelsAtRisk === undefined)).toBe(true);
    });
  }

  it('placement auto: times the candidates here, keeps one as accurate as the best, and says why', async () => {
    const model = loadModel(join(TRAINED, 'resnet_bn.onnx'));
    const r = await quantize(model, { calibration: CALIB, engine });
    const sc = r.speedCheck!;
    const l = sc.latency!;
    // The measured search may keep everything in float on a busy machine ('storage'): then
    // constants are stored as int8 and nothing is planned; otherwise every planned group fuses.
    if (l.chosen === 'storage') expect(r.plan.stored.length).toBeGreaterThan(0);
    else expect(sc.planned).toBeGreaterThan(0);
    expect(sc.unfused).toEqual([]);
    // Several candidates considered: timed, or set aside as less accurate.
    expect(l.candidates.length + (l.inaccurate?.length ?? 0)).toBeGreaterThanOrEqual(2);
    expect(l.verdict).toMatch(/float32/);
    const best = Math.max(...l.candidates.map((c) => c.sqnrDb ?? -Infinity));
    const chosen = l.candidates.find((c) => c.label === l.chosen);
    if (chosen?.sqnrDb !== undefined) expect(chosen.sqnrDb).toBeGreaterThanOrEqual(Math.min(best - 3, 30));
  });
});

describe('static int8 structure', () => {
  it('QDQ: all Conv/Gemm fused by ORT, weights stored as int8, outputs close to float', async () => {
    const model = loadModel(join(SYNTHETIC, 'conv_block.onnx'));
    const feeds = sampleFeeds('conv_block', 8, 1);
    const r = await quantize(model, { calibration: npz(feeds), engine, placement: 'full' });
    const kernels = r.speedCheck!.fused.map((f) => f.kernel);
    expect(kernels.filter((k) => k === 'QLinearConv')).toHaveLength(3);
    expect(kernels).toContain('com.microsoft.QGemm');
    const int8 = [...r.model.graph.initializers.values()].filter((v) => v.constValue!.dataType === 3);
    expect(int8.length).toBeGreaterThanOrEqual(4);
    expect(sqnrDb(await run(model, feeds), await run(r.model, feeds))).toBeGreaterThan(25);
  });

  it('refuses a range too wide for a float32 scale (an edited ranges file), naming the tensor', async () => {
    const model = loadModel(join(SYNTHETIC, 'conv_block.onnx'));
    const { ranges } = await quantize(model, { calibration: npz(sampleFeeds('conv_block', 8, 1)), engine, placement: 'full' });
    const [name] = [...ranges.keys()];
    const edited = new Map(ranges).set(name!, { min: -1e300, max: 1e300 });
    await expect(quantize(model, { ranges: edited, engine, placement: 'full' })).rejects.toThrow(new RegExp(`tensor '${name}' has the range -1e\\+300\\.\\.1e\\+300, too wide for a float32 quantization scale`));
  });

  it('refuses name lists that are no lists (an API caller, an edited recipe) with the flag, in every mode', async () => {
    const model = loadModel(join(SYNTHETIC, 'conv_block.onnx'));
    for (const mode of ['static', 'dynamic', 'weight-only', 'fp16'] as const) {
      await expect(quantize(model, { mode, engine, exclude: 'Conv' as never } as never)).rejects.toThrow(/--exclude must be a list of names \(got "Conv"\)/);
    }
    await expect(quantize(model, { engine, opTypes: 'Conv' as never, ranges: new Map() })).rejects.toThrow(/--op-types must be a list of names \(got "Conv"\)/);
    await expect(quantize(model, { mode: 'dynamic', engine, opTypes: 'MatMul' as never })).rejects.toThrow(/--ops must be a list of names \(got "MatMul"\)/);
  });

  it('QOperator: writes QLinearConv/QGemm and matches the QDQ model', async () => {
    const model = loadModel(join(SYNTHETIC, 'conv_block.onnx'));
    const feeds = sampleFeeds('conv_block', 8, 1);
    const qdq = await quantize(model, { calibration: npz(feeds), engine, placement: 'full' });
    const ranges = qdq.ranges;
    const qop = await quantize(model, { ranges, engine, placement: 'full', format: 'qoperator' });
    const ops = qop.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(3);
    expect(ops).toContain('QGemm');
    expect(ops).not.toContain('Conv');
    expect(sqnrDb(await run(qdq.model, feeds), await run(qop.model, feeds))).toBeGreaterThan(40);
  });

  it('opset 11: per-channel weights through com.microsoft Q/DQ, still fused', async () => {
    const model = loadModel(join(TRAINED, 'resnet_bn_opset11.onnx'));
    const r = await quantize(model, { calibration: CALIB, calibSize: 100, engine, placement: 'full' });
    expect(r.plan.qdqDomain).toBe('com.microsoft');
    expect(r.model.opset('')).toBe(11);
    expect(r.speedCheck!.unfused).toEqual([]);
  });

  it('opset 9 (PaddleOCR classifier, weights in Constant nodes): upgraded to opset 10, fused, runs', async () => {
    const model = loadModel(THIRD_PARTY.ocrCls());
    const feeds: Feeds = { x: { type: 'float32', dims: [4, 3, 48, 192], data: new Rng(3).normals(4 * 3 * 48 * 192) } };
    // One conv kept float between int8 neighbours: ORT's WeightBiasQuantization would quantize its
    // weight and bias itself, with a Round that opset 10 does not have (the model did not load).
    const r = await quantize(model, { calibration: npz(feeds), engine, placement: 'full', exclude: ['p2o.Conv.9'] });
    expect(r.model.opset('')).toBe(10);
    expect(r.summary.notes!.join()).toMatch(/upgraded the default-domain opset from 9 to 10/);
    expect(r.speedCheck!.fused.length).toBeGreaterThan(50);
    expect(r.speedCheck!.fused.map((f) => f.node)).toEqual(expect.arrayContaining(['p2o.Conv.8', 'p2o.Conv.10']));
    expect(r.speedCheck!.fused.map((f) => f.node)).not.toContain('p2o.Conv.9');
    expect(r.speedCheck!.unfused).toEqual([]);
    const out = await run(r.model, feeds);
    expect(out.every(Number.isFinite)).toBe(true);
    // Its 18 hard-swish activations (Add, Clip, Mul, Div) were fused into x * HardSigmoid(x).
    expect(r.summary.notes!.join()).toMatch(/fused 18 hard-swish activations/);
  });

  it('opset 9 Conv -> Clip(0, 6): per-layer analysis rebuilds the folded Clip with FLOAT attributes', async () => {
    const b = new GraphBuilder({ opset: 9 });
    const rng = new Rng(9);
    const x = b.input('x', DataType.FLOAT, ['N', 3, 8, 8]);
    const c1 = b.op('Conv', [x, b.floats('w1', [8, 3, 3, 3], rng.normals(8 * 27, 0.3)), b.floats('b1', [8], rng.normals(8, 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
    const relu6 = b.op('Clip', [c1], [floatAttr('min', 0), floatAttr('max', 6)], { name: 'relu6' });
    b.output(b.op('Conv', [relu6, b.floats('w2', [4, 8, 1, 1], rng.normals(32, 0.3))], {}, { name: 'conv2', outputNames: ['y'] }));
    const model = b.build();
    const feeds: Feeds = { x: { type: 'float32', dims: [4, 3, 8, 8], data: rng.normals(4 * 3 * 64, 2) } };
    const r = await quantize(model, { calibration: npz(feeds), engine, placement: 'full' });
    expect(r.model.opset('')).toBe(10);
    // Per-layer analysis (what --max-drop ranks by) rebuilds the folded Clips of this opset-10
    // model with Clip-6's FLOAT attributes; an integral bound once came out INT and ORT refused it.
    const a = await analyzeLayers(r.model, npz(feeds), { engine, reference: model, sensitivity: 'none', samples: 4 });
    expect(a.layers.flatMap((l) => l.quantizers).some((q) => q.folded === 'Clip')).toBe(true);
  });

  it('If branches: quantizes inside the branch that the calibration data takes', async () => {
    const model = loadModel(join(SYNTHETIC, 'if_branch.onnx'));
    const feeds = sampleFeeds('if_branch', 4, 1);
    const r = await quantize(model, { calibration: npz({ input: feeds.input!, use_conv: { type: 'bool', dims: [4], data: Uint8Array.from([1, 1, 1, 1]) } }), engine, placement: 'full' });
    const conv = r.plan.nodes.find((n) => n.op === 'Conv')!;
    expect(conv.action).toBe('quantize');
    expect(r.speedCheck!.fused.map((f) => f.node)).toContain(conv.node);
    expect(r.plan.nodes.find((n) => n.op === 'MatMul')!.detail).toMatch(/did not run on the calibration data/);
    expect(sqnrDb(await run(model, feeds), await run(r.model, feeds))).toBeGreaterThan(20);
  });

  it('16-bit activations (A16W8): contrib Q/DQ below opset 21, closer to float than uint8', async () => {
    const model = loadModel(join(SYNTHETIC, 'conv_block.onnx'));
    const feeds = sampleFeeds('conv_block', 8, 2);
    // The same 8-bit weight values in both (uint8 = int8 + 128 is exact on every CPU): only the activations differ.
    const a8 = await quantize(model, { calibration: npz(feeds), engine, placement: 'full', weights: 'uint8' });
    const ranges = a8.ranges;
    const a16 = await quantize(model, { ranges, engine, placement: 'full', activations: 'uint16' });
    expect(a16.plan.qdqDomain).toBe('com.microsoft');
    const ref = await run(model, feeds);
    expect(sqnrDb(ref, await run(a16.model, feeds))).toBeGreaterThan(sqnrDb(ref, await run(a8.model, feeds)) + 10);
    expect(a16.speedCheck!.unfused.every((u) => /16-bit/.test(u.reason))).toBe(true);
  });
});
