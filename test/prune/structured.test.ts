/** Channel pruning: dependency groups, cuts and their consistency, through ONNX Runtime. */
import { afterAll, describe, expect, it } from 'vitest';
import { prune } from '../../src/prune/prune.js';
import { resolvePruneOptions } from '../../src/prune/options.js';
import { applyChannels, planChannels, prepareChannels } from '../../src/prune/structured/run.js';
import { cloneModel } from '../../src/ir/clone.js';
import { runPasses } from '../../src/ir/passes/pass.js';
import { constantsToInitializers } from '../../src/ir/passes/index.js';
import { isTensorType } from '../../src/ir/types.js';
import type { Model } from '../../src/ir/model.js';
import { Engine } from '../../src/runtime/engine.js';
import { loadModel } from '../../src/onnx/io.js';
import type { Feeds, TensorData } from '../../src/runtime/types.js';
import { ArrayDataset } from '../../src/calibrate/data/array-dataset.js';
import { sqnrDb } from '../helpers.js';
import { TRAINED_CASES, THIRD_PARTY_CASES } from '../quantize/feeds.js';
import { attention, blockers, convChain, depthwiseConcatFlatten, images, residual } from './graphs.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine();
afterAll(() => engine.close());

async function run(model: Model, feeds: Feeds, extra: string[] = []): Promise<Record<string, TensorData>> {
  const s = await engine.createSession(model, extra.length ? { extraOutputs: extra } : {});
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Every intermediate value's shape as declared in the pruned model equals what ONNX Runtime computes. */
async function expectConsistent(original: Model, pruned: Model, feeds: Feeds): Promise<void> {
  const names = pruned.graph.nodes.flatMap((n) => n.outputs.map((o) => o.name)).filter((n) => n && !pruned.graph.outputs.some((o) => o.name === n));
  const out = await run(pruned, feeds, names);
  const ref = await run(original, feeds);
  for (const [k, v] of Object.entries(ref)) expect(out[k]!.dims).toEqual(v.dims);
  for (const n of pruned.graph.nodes) {
    for (const o of n.outputs) {
      if (!isTensorType(o.type) || !o.type.shape || !out[o.name]) continue;
      o.type.shape.forEach((d, i) => { if (typeof d === 'number') expect(out[o.name]!.dims[i], `${o.name} axis ${i}`).toBe(d); });
    }
  }
}

const weights = (m: Model, name: string) => {
  const t = m.graph.initializers.get(name)!.constValue!;
  return { dims: t.dims, data: t.toFloat32() };
};

describe('channel pruning on small graphs', () => {
  it('cutting channels that were already zero leaves the outputs unchanged', async () => {
    const zero = [1, 5];
    const model = residual(2, zero);
    const o = resolvePruneOptions({ sparsity: 0.25, method: 'channel', channelMultiple: 1, engine });
    const base = cloneModel(model);
    runPasses(base, [constantsToInitializers]);
    const ctx = await prepareChannels(base, { ...o, engine });
    const plan = planChannels(ctx, 0.25);
    // The plan is data: keep only the cut of the stem's zero channels.
    const stem = plan.groups!.find((g) => g.members.includes('stem (output channels)'))!;
    expect(stem.units).toBe(8);
    for (const g of plan.groups!) g.drop = g === stem ? zero : [];
    const { model: pruned } = await applyChannels(ctx, plan);
    expect(weights(pruned, 'stem_w').dims).toEqual([6, 3, 3, 3]);
    const feeds = images(3, 3, 8, 7);
    const [a, b] = [Object.values(await run(model, feeds))[0]!, Object.values(await run(pruned, feeds))[0]!];
    const x = a.data as Float32Array;
    const y = b.data as Float32Array;
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(x[i]!)));
  });

  it("refuses a plan whose groups are not this model's (edited, or made for another model) with one clear error", async () => {
    const model = residual(2);
    const r = await prune(model, { sparsity: 0.5, method: 'channel', channelMultiple: 1, engine });
    const edited = { ...r.plan, groups: r.plan.groups!.map((g, i) => (i === 0 ? { ...g, units: g.units + 1 } : g)) };
    await expect(prune(model, { sparsity: 0.5, method: 'channel', channelMultiple: 1, plan: edited, engine })).rejects.toThrow(/the pruning plan's group \d+ does not match this model's channel groups \(that group has \d+ units, not \d+\): the plan was made for another model or edited; make it again with --plan-out/);
  });

  it('a residual Add ties both producers: the same channels leave the branch, its BatchNorm and the shortcut', async () => {
    const model = residual(2);
    const r = await prune(model, { sparsity: 0.5, method: 'channel', channelMultiple: 1, engine });
    const group = r.plan.groups!.find((g) => g.members.some((m) => m.includes('BatchNormalization')) && g.members.filter((m) => m.endsWith('(output channels)')).length === 2)!;
    expect(group).toBeDefined();
    const kept = [...Array(8).keys()].filter((i) => !group.drop.includes(i));
    expect(kept).toHaveLength(4);
    // The branch conv, its BatchNorm and the shortcut conv keep exactly the channels `kept` (their
    // biases and BatchNorm parameters follow the output channels alone).
    const producers = model.graph.nodes.filter((n) => n.opType === 'Conv' && n.outputs[0]!.consumers().some((c) => c.opType === 'Add' || c.opType === 'BatchNormalization'));
    const bn = model.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
    expect(producers).toHaveLength(2);
    for (const [node, index] of [[producers[0]!, 2], [producers[1]!, 2], [bn, 1], [bn, 3]] as const) {
      const before = node.input(index)!.constValue!.toFloat32();
      const after = r.model.graph.nodes.find((n) => n.name === node.name)!.input(index)!.constValue!.toFloat32();
      expect([...after]).toEqual(kept.map((k) => before[k]!));
    }
    await expectConsistent(model, r.model, images(2, 3, 8, 1));
  });

  it('depthwise convolutions follow their input channels; Concat offsets, Resize and Flatten -> Gemm line up', async () => {
    const model = depthwiseConcatFlatten();
    const r = await prune(model, { sparsity: 0.5, method: 'channel', channelMultiple: 1, engine });
    const dw = r.model.graph.nodes.find((n) => n.opType === 'Conv' && n.getInt('group', 1) > 1)!;
    expect(dw.getInt('group', 1)).toBe(8);
    expect(dw.input(1)!.constValue!.dims).toEqual([8, 1, 3, 3]);
    const gemm = r.model.graph.nodes.find((n) => n.opType === 'Gemm')!;
    expect(gemm.input(1)!.constValue!.dims).toEqual([5, 4 * 16]);
    await expectConsistent(model, r.model, images(2, 3, 8, 2));
  });

  it('attention heads and MLP neurons: the head count in the Reshape is rewritten', async () => {
    const model = attention();
    const r = await prune(model, { sparsity: 0.5, method: 'channel', engine });
    const heads = r.plan.groups!.find((g) => g.unit === 'head')!;
    expect(heads.units).toBe(4);
    expect(heads.drop).toHaveLength(2);
    expect(r.plan.groups!.find((g) => g.unit === 'neuron')!.drop).toHaveLength(12);
    expect(r.model.graph.initializers.get('shape5')!.constValue!.toNumbers()).toEqual([0, 0, 3, 2, 4]);
    expect(r.model.graph.initializers.get('qkv_w')!.constValue!.dims).toEqual([16, 3 * 2 * 4]);
    const feeds = { x: { type: 'float32' as const, dims: [2, 6, 16], data: new Rng(3).normals(192) } };
    await expectConsistent(model, r.model, feeds);
    // The hidden axis is added to the graph input (the residual stream): left alone, with the reason.
    expect(r.summary.channels!.blocked.some((b) => /input 'x' has 16 entries along the channel axis/.test(b.reason))).toBe(true);
  });

  it('leaves alone what it cannot prove safe, and says why', async () => {
    const r = await prune(blockers(), { sparsity: 0.5, method: 'channel', engine });
    const reasons = r.summary.channels!.blocked.map((b) => b.reason);
    expect(reasons.some((x) => /normalizes over the channel axis/.test(x))).toBe(true);
    expect(reasons.some((x) => /'features' is a graph output/.test(x))).toBe(true);
    expect(r.summary.channels!.groups).toHaveLength(0);
    expect(r.summary.warnings.join()).toMatch(/no channel group could be cut/);
  });

  it('refits the next layer by least squares: closer outputs than the plain cut', async () => {
    const model = convChain(4);
    const rng = new Rng(5);
    const calibration = new ArrayDataset('memory', { x: { type: 'float32', dims: [64, 3, 8, 8], data: rng.normals(64 * 192) } });
    const feeds = images(8, 3, 8, 9);
    const ref = Object.values(await run(model, feeds))[0]!.data as Float32Array;
    const plain = await prune(model, { sparsity: 0.5, method: 'channel', calibration, reconstruct: false, engine });
    const refit = await prune(model, { sparsity: 0.5, method: 'channel', calibration, engine });
    expect(refit.summary.channels!.groups.some((g) => g.reconstructed.length > 0)).toBe(true);
    const q = (m: Model) => run(m, feeds).then((o) => sqnrDb(ref, Object.values(o)[0]!.data as Float32Array));
    expect(await q(refit.model)).toBeGreaterThan((await q(plain.model)) + 3);
  });
});

describe('channel pruning on the fixtures and a third-party model', () => {
  const cases = [...TRAINED_CASES.filter((c) => c.name === 'resnet_bn' || c.name === 'mobilenet_dw'), THIRD_PARTY_CASES.find((c) => c.name === 'ocr-det')!];
  for (const c of cases) {
    it(`${c.name}: prunes 30% of its channels into a valid, smaller model`, async () => {
      const model = loadModel(c.path);
      const r = await prune(model, { sparsity: 0.3, method: 'channel', engine });
      expect(r.summary.params.after).toBeLessThan(0.75 * r.summary.params.before);
      expect(r.summary.channels!.groups.length).toBeGreaterThan(5);
      await expectConsistent(model, r.model, c.feeds());
    });
  }
});
