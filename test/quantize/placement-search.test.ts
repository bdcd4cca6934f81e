/**
 * The measured placement: int8 regions of a plan, the paired-timing decision rule, charging ORT's
 * node profile to planned nodes, forced-float nodes with their reasons, and the end-to-end search
 * on a real model (what it returns and explains, not how fast it is).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import type { Model } from '../../src/ir/model.js';
import { Engine } from '../../src/runtime/engine.js';
import { planStatic } from '../../src/quantize/static/planner.js';
import { resolveStaticOptions } from '../../src/quantize/static/options.js';
import { nameNodes } from '../../src/quantize/static/preprocess.js';
import { planRegions } from '../../src/quantize/static/regions.js';
import { clearlyFaster, pickFastest, ratioStats } from '../../src/tune/latency-decision.js';
import { nodeTimesFromEvents, profileNodes, readProfileEvents } from '../../src/quantize/static/node-profile.js';
import { chargeCosts, labelQdqNodes, nodeKey } from '../../src/quantize/static/region-costs.js';
import { buildCandidate, searchPlacement } from '../../src/quantize/static/placement-search.js';
import { MIN_ROUNDS, plainAnswer, settled } from '../../src/tune/paired-timing.js';
import { accurateEnough } from '../../src/quantize/static/candidate-fidelity.js';
import { preciseEnough } from '../../src/quantize/static/candidate-timing.js';
import type { TensorRange } from '../../src/calibrate/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

/**
 * input -> conv1 -> relu1 -> conv2 -> Tanh -> conv3 -> add(conv3, tanh) -> output: Tanh has no
 * int8 kernel, so conv1..conv2 and conv3..add are two regions (add joins conv3 through the
 * quantized tanh output it also reads).
 */
function twoRegions(): { model: Model; ranges: Map<string, TensorRange> } {
  const rng = new Rng(3);
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('input', DataType.FLOAT, [1, 8, 16, 16]);
  const w = (name: string) => b.floats(name, [8, 8, 3, 3], rng.normals(576, 0.1));
  const c1 = b.op('Conv', [x, w('w1'), b.floats('b1', [8], rng.normals(8, 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r1, w('w2'), b.floats('b2', [8], rng.normals(8, 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  const t = b.op('Tanh', [c2], {}, { name: 'tanh' });
  const c3 = b.op('Conv', [t, w('w3'), b.floats('b3', [8], rng.normals(8, 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv3' });
  b.output(b.op('Add', [c3, t], {}, { name: 'add', outputNames: ['output'] }));
  const model = b.build();
  nameNodes(model);
  const ranges = new Map<string, TensorRange>([
    ['input', { min: -2, max: 2 }], [c1.name, { min: -3, max: 3 }], [r1.name, { min: 0, max: 3 }], [c2.name, { min: -2, max: 2 }],
    [t.name, { min: -1, max: 1 }], [c3.name, { min: -2, max: 2 }], ['output', { min: -3, max: 3 }],
  ]);
  return { model, ranges };
}

const feeds = () => ({ input: { type: 'float32' as const, dims: [1, 8, 16, 16], data: new Rng(9).normals(2048) } });

describe('int8 regions', () => {
  it('splits at float ops, joins through folds and shared tensors', () => {
    const { model, ranges } = twoRegions();
    const plan = planStatic(model, ranges, resolveStaticOptions({ placement: 'full' }));
    const { regions, ofNode } = planRegions(model, plan);
    expect(regions.map((r) => r.nodes)).toEqual([['conv1', 'relu1', 'conv2'], ['conv3', 'add']]);
    expect(regions[0]!.compute).toEqual(['conv1', 'conv2']);
    expect(ofNode.get('tanh')).toBeUndefined();
  });

  it('forced-float nodes carry the reason, and their weights are stored as int8', () => {
    const { model, ranges } = twoRegions();
    const reason = 'measured slower in int8 here (test)';
    const plan = planStatic(model, ranges, resolveStaticOptions({ placement: 'full' }), { forceFloat: new Map([['conv3', reason], ['add', reason]]) });
    const byNode = new Map(plan.nodes.map((n) => [n.node, n]));
    expect(byNode.get('conv3')).toMatchObject({ action: 'float' });
    expect(byNode.get('conv3')!.detail).toMatch(/^measured slower in int8 here \(test\); its weight is stored as int8/);
    expect(byNode.get('conv1')!.action).toBe('quantize');
    expect(plan.stored.map((s) => s.tensor)).toContain('w3');
    expect(plan.stored.find((s) => s.tensor === 'w3')).toMatchObject({ axis: 0, uses: [{ node: 'conv3', input: 1 }] });
    expect(plan.weights.map((w) => w.tensor)).toEqual(['w1', 'w2']);
    // --exclude keeps the user's float constants float.
    const excluded = planStatic(model, ranges, resolveStaticOptions({ placement: 'full', exclude: ['conv3'] }));
    expect(excluded.stored.map((s) => s.tensor)).not.toContain('w3');
  });
});

describe('deciding from paired timings', () => {
  it('needs the whole 95% interval below float and a 3% margin', () => {
    const ref = Array.from({ length: 100 }, (_, i) => 1 + (i % 7) * 0.01);
    const faster = ref.map((t, i) => t * (0.9 + (i % 5) * 0.004));
    const equal = ref.map((t, i) => t * (i % 2 ? 0.98 : 1.02));
    const s = ratioStats(faster, ref);
    expect(s.median).toBeCloseTo(0.908, 2);
    expect(s.low).toBeLessThanOrEqual(s.median);
    expect(s.high).toBeGreaterThanOrEqual(s.median);
    expect(clearlyFaster(s)).toBe(true);
    expect(clearlyFaster(ratioStats(equal, ref))).toBe(false);
    expect(pickFastest([{ stats: ratioStats(equal, ref), quantized: 1 }])).toBe(-1);
    // Within 1% of the fastest, fewer quantized nodes win.
    const a = { stats: { median: 0.5, low: 0.49, high: 0.51, rounds: 100 }, quantized: 10 };
    const b = { stats: { median: 0.503, low: 0.49, high: 0.51, rounds: 100 }, quantized: 4 };
    const c = { stats: { median: 0.6, low: 0.59, high: 0.61, rounds: 100 }, quantized: 1 };
    expect(pickFastest([a, b, c])).toBe(1);
  });

  it('lets speed choose only among candidates about as accurate as the best', () => {
    expect(accurateEnough(9.5, 14.3)).toBe(false); // PaddleOCR detector: full vs regional compute
    expect(accurateEnough(12.8, 14.3)).toBe(true);
    expect(accurateEnough(37.3, 41.3)).toBe(true); // 4 dB less, but accurate in absolute terms
    expect(accurateEnough(25, 41.3)).toBe(false);
  });

  it('stops timing once more rounds cannot change the answer', () => {
    const s = (median: number, low: number, high: number) => ({ median, low, high, rounds: 20 });
    expect(settled([s(0.3, 0.29, 0.31), s(0.35, 0.34, 0.36)])).toBe(true); // a clear, separate winner
    expect(settled([s(0.3, 0.29, 0.33), s(0.32, 0.31, 0.34)])).toBe(false); // two close ones: keep timing
    expect(settled([s(1.01, 0.98, 1.05), s(1.4, 1.3, 1.5)])).toBe(true); // nothing can beat float
    expect(settled([s(0.99, 0.95, 1.02)])).toBe(false); // might still be 3% faster
  });
});

describe('node profiles', () => {
  it('takes per-run times from profile events, skipping warm-up runs', () => {
    const events = [
      { cat: 'Session', name: 'model_run', ts: 0, dur: 100 }, { cat: 'Node', name: 'conv_kernel_time', ts: 10, dur: 50 },
      { cat: 'Session', name: 'model_run', ts: 200, dur: 100 }, { cat: 'Node', name: 'conv_kernel_time', ts: 210, dur: 20 }, { cat: 'Node', name: 'conv_kernel_time', ts: 240, dur: 2 },
      { cat: 'Session', name: 'model_run', ts: 400, dur: 100 }, { cat: 'Node', name: 'conv_kernel_time', ts: 410, dur: 20 },
    ];
    const { times, runs } = nodeTimesFromEvents(events, 1);
    expect(runs).toBe(2);
    expect(times.get('conv')).toBeCloseTo(0.021, 6); // runs 2 (20 + 2 us) and 3 (20 us), in ms
  });

  it('reads the events of a real ORT profile line by line as JSON.parse would, and other layouts as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-profile-test-'));
    try {
      const s = await engine.createSession(twoRegions().model, { intraOpThreads: 1, profilePrefix: join(dir, 'p') });
      await s.time(feeds(), 5);
      await s.endProfiling();
      await s.release();
      const text = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8');
      const parsed = (JSON.parse(text) as { cat: string; name: string; ts: number; dur: number }[]).map(({ cat, name, ts, dur }) => ({ cat, dur, ts, name }));
      expect(parsed.filter((e) => e.name.endsWith('_kernel_time')).length).toBeGreaterThan(5 * 3);
      expect(readProfileEvents(text)).toEqual(parsed);
      // Another layout (fields reordered, pretty-printed): the whole text is parsed as JSON.
      const other = JSON.stringify(parsed.map(({ name, ts, dur, cat }) => ({ name, ts, dur, cat })), null, 1);
      expect(readProfileEvents(other)).toEqual(JSON.parse(other));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('charges every node ORT ran to a planned node or quantized tensor', async () => {
    const { model, ranges } = twoRegions();
    const c = buildCandidate(model, ranges, resolveStaticOptions({ placement: 'full' }), 'full');
    const regions = planRegions(model, c.plan);
    labelQdqNodes(c.model);
    const profile = await profileNodes(engine, c.model, feeds(), 10);
    expect(profile.times.size).toBeGreaterThan(3);
    const costs = chargeCosts(profile, model, (n) => regions.ofNode.has(n));
    for (const n of ['conv1', 'conv2', 'conv3']) expect(costs.get(nodeKey(n))).toBeGreaterThan(0);
    expect(costs.get('t:input')).toBeGreaterThan(0); // the input's QuantizeLinear
    const total = [...costs.values()].reduce((a, b) => a + b, 0);
    const profiled = [...profile.times.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(profiled, 9);
  });
});

describe('the search', () => {
  it('times the candidates against float and explains the choice; every float node has a reason', async () => {
    const { model, ranges } = twoRegions();
    const { chosen, latency } = await searchPlacement(model, ranges, resolveStaticOptions({}), engine, feeds());
    expect(latency!.candidates.length).toBeGreaterThanOrEqual(2);
    expect(latency!.verdict).toMatch(/float32/);
    expect(latency!.regions!.length).toBeGreaterThanOrEqual(2);
    // When nothing was clearly faster, the last timing is the written 'storage' model's own
    // (measureLatency), which stops once the ratio is precise rather than plain.
    const own = chosen.placement === 'storage' ? latency!.candidates.at(-1) : undefined;
    for (const c of latency!.candidates) {
      // MIN_ROUNDS, or half as many when the first ones already gave a plain (or precise) answer.
      expect(c.ratio!.rounds).toBeGreaterThanOrEqual(MIN_ROUNDS / 2);
      if (c.ratio!.rounds < MIN_ROUNDS) expect((c === own ? preciseEnough : plainAnswer)(c.ratio!)).toBe(true);
    }
    for (const n of chosen.plan.nodes) if (n.action === 'float') expect(n.detail.length).toBeGreaterThan(10);
    if (chosen.placement === 'storage') expect(chosen.plan.stored.length).toBeGreaterThan(0);
  });

  it('compares accuracy where float32 is finite: a sample with NaN in it is judged by the rest', async () => {
    const { model, ranges } = twoRegions();
    const withNaN = feeds();
    for (const i of [5, 300, 1500]) withNaN.input.data[i] = NaN;
    const sqnr = async (f: ReturnType<typeof feeds>) => {
      const { latency } = await searchPlacement(model, ranges, resolveStaticOptions({}), engine, f);
      return new Map(latency!.candidates.filter((c) => c.sqnrDb !== undefined).map((c) => [c.label, c.sqnrDb!]));
    };
    const [dirty, clean] = [await sqnr(withNaN), await sqnr(feeds())];
    expect(dirty.size).toBeGreaterThanOrEqual(1);
    // About as accurate as on the clean sample (20 dB on these random weights), not NaN.
    for (const [label, db] of dirty) expect(Math.abs(db - clean.get(label)!)).toBeLessThan(1);
  });
});
