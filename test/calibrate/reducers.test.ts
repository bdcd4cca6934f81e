/** Reducers against straightforward references computed on all the values at once. */
import { describe, expect, it } from 'vitest';
import { createReducer } from '../../src/calibrate/stats/reducer.js';
import type { ChannelAbsMeanStat, ChannelL2Stat, ChannelMinMaxStat, HistogramStat, MinMaxStat, XtxStat } from '../../src/calibrate/stats/results.js';
import { Rng } from '../../fixtures/synthetic/random.js';

/** Feeds `batches` tensors of shape [n, ...rest] through a reducer. */
function run<T>(kind: Parameters<typeof createReducer>[0], batches: { values: Float32Array; dims: number[] }[]): T {
  const r = createReducer(kind);
  let seen = 0;
  for (const b of batches) {
    r.update({ values: b.values, dims: b.dims, samples: b.dims[0]!, seen });
    seen += b.dims[0]!;
  }
  return r.result() as T;
}

function concat(batches: { values: Float32Array }[]): Float32Array {
  const out = new Float32Array(batches.reduce((s, b) => s + b.values.length, 0));
  let o = 0;
  for (const b of batches) { out.set(b.values, o); o += b.values.length; }
  return out;
}

/** Batches whose spread grows, so the histogram has to widen (and merge bins) several times. */
function widening(seed: number, count = 12, per = 500): { values: Float32Array; dims: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => ({ values: rng.normals(2 * per, 0.1 * (i + 1) ** 2, 0.3), dims: [2, per] }));
}

describe('minmax reducer', () => {
  it('matches min/max/mean/std over all values and averages per-batch extremes', () => {
    const batches = widening(1);
    const all = concat(batches);
    const s = run<MinMaxStat>({ tensor: 't', kind: 'minmax' }, batches);
    expect(s.min).toBe(Math.min(...all));
    expect(s.max).toBe(Math.max(...all));
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    expect(s.mean).toBeCloseTo(mean, 9);
    expect(s.std).toBeCloseTo(Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length), 6);
    expect(s.count).toBe(all.length);
    // Moving average: the mean of each batch's extremes.
    const rows = batches.map((b) => b.values);
    expect(s.meanMin).toBeCloseTo(rows.reduce((a, r) => a + Math.min(...r), 0) / rows.length, 9);
    expect(s.meanMax).toBeCloseTo(rows.reduce((a, r) => a + Math.max(...r), 0) / rows.length, 9);
    expect(s.samples).toBe(24);
    // The spread grows every batch, so the range widened at every batch and the last one is recorded.
    expect(s.widenings.at(-1)).toEqual({ samples: 24, min: s.min, max: s.max });
  });

  it('leaves NaN and Inf out and counts them', () => {
    const s = run<MinMaxStat>({ tensor: 't', kind: 'minmax' }, [{ values: Float32Array.of(1, NaN, -2, Infinity, 3, -Infinity), dims: [1, 6] }]);
    expect([s.min, s.max, s.count, s.nonFinite]).toEqual([-2, 3, 3, 3]);
  });

  it('takes extremes computed by the runtime per sample, or per batch when axis 0 is not the sample axis', () => {
    const r = createReducer({ tensor: 't', kind: 'minmax' });
    r.update({ rowMin: Float32Array.of(-1, -3), rowMax: Float32Array.of(2, 1), dims: [], samples: 2, seen: 0 });
    r.update({ rowMin: Float32Array.of(-2, -2, NaN), rowMax: Float32Array.of(5, 0, NaN), dims: [], samples: 1, seen: 2 });
    r.update({ rowMin: Float32Array.of(NaN), rowMax: Float32Array.of(NaN), dims: [], samples: 1, seen: 3 });
    const s = r.result() as MinMaxStat;
    expect([s.min, s.max, s.samples, s.nonFinite]).toEqual([-3, 5, 4, 2]);
    // rows: (-1, 2), (-3, 1), then the 3-row batch collapsed to (-2, 5)
    expect(s.meanMin).toBeCloseTo(-2, 12);
    expect(s.meanMax).toBeCloseTo(8 / 3, 12);
    expect(s.widenings.map((w) => w.samples)).toEqual([2, 3]);
  });
});

describe('histogram reducer', () => {
  it('merges online exactly: the same counts as binning all values on the final grid', () => {
    const batches = widening(2);
    const all = concat(batches);
    const h = run<HistogramStat>({ tensor: 't', kind: 'histogram', bins: 256 }, batches);
    expect(h.counts.length).toBeLessThanOrEqual(256);
    expect(h.counts.length).toBeGreaterThan(100); // doubling keeps at least half the bins in use
    expect(h.total).toBe(all.length);
    const ref = new Float64Array(h.counts.length);
    for (const v of all) ref[Math.min(h.counts.length - 1, Math.floor(v / h.binWidth) - h.offset)]! += 1;
    // Values on a bin edge may land one bin over (float rounding of x/w); nothing else differs.
    let moved = 0;
    for (let j = 0; j < ref.length; j++) moved += Math.abs(ref[j]! - h.counts[j]!);
    expect(moved).toBeLessThanOrEqual(4);
    expect(h.min).toBe(Math.min(...all));
    expect(h.max).toBe(Math.max(...all));
    expect(h.offset * h.binWidth).toBeLessThanOrEqual(h.min);
    expect((h.offset + h.counts.length) * h.binWidth).toBeGreaterThan(h.max);
  });

  it('counts exact zeros, holds all-zero tensors until a non-zero arrives, skips NaN', () => {
    const h = run<HistogramStat>({ tensor: 't', kind: 'histogram', bins: 64 }, [
      { values: new Float32Array(10), dims: [1, 10] },
      { values: Float32Array.of(0, 0, 1, 2, NaN, 3), dims: [1, 6] },
    ]);
    expect(h.total).toBe(15);
    expect(h.zeros).toBe(12);
    expect(h.nonFinite).toBe(1);
    expect(h.counts[-h.offset]).toBe(12);
    const zero = run<HistogramStat>({ tensor: 't', kind: 'histogram' }, [{ values: new Float32Array(5), dims: [1, 5] }]);
    expect(zero.binWidth).toBe(0);
    expect(Array.from(zero.counts)).toEqual([5]);
  });
});

describe('per-channel and Gram reducers', () => {
  const rng = new Rng(4);
  const batches = [0, 1, 2].map(() => ({ values: rng.normals(2 * 3 * 4 * 5), dims: [2, 3, 4, 5] }));
  const at = (v: Float32Array, n: number, c: number, i: number) => v[((n * 3 + c) * 4 + Math.floor(i / 5)) * 5 + (i % 5)]!;

  it('channel-minmax, channel-l2 and channel-abs-mean along axis 1', () => {
    const mm = run<ChannelMinMaxStat>({ tensor: 't', kind: 'channel-minmax', axis: 1 }, batches);
    const l2 = run<ChannelL2Stat>({ tensor: 't', kind: 'channel-l2', axis: -3 }, batches);
    const abs = run<ChannelAbsMeanStat>({ tensor: 't', kind: 'channel-abs-mean', axis: 1 }, batches);
    expect(mm.axis).toBe(1);
    expect(l2.axis).toBe(1);
    for (let c = 0; c < 3; c++) {
      const vals = batches.flatMap((b) => [0, 1].flatMap((n) => Array.from({ length: 20 }, (_, i) => at(b.values, n, c, i))));
      expect(mm.min[c]).toBe(Math.min(...vals));
      expect(mm.max[c]).toBe(Math.max(...vals));
      expect(l2.norms[c]).toBeCloseTo(Math.sqrt(vals.reduce((s, v) => s + v * v, 0)), 9);
      expect(abs.means[c]).toBeCloseTo(vals.reduce((s, v) => s + Math.abs(v), 0) / vals.length, 12);
    }
    expect(abs.count).toBe(6 * 20);
    expect(l2.count).toBe(6 * 20);
  });

  it('a batch whose channel count changes is an error naming the tensor', () => {
    const odd = [...batches, { values: new Float32Array(2 * 4 * 4 * 5), dims: [2, 4, 4, 5] }];
    for (const kind of ['channel-minmax', 'channel-l2', 'channel-abs-mean'] as const) {
      expect(() => run({ tensor: 't', kind, axis: 1 }, odd)).toThrow(/tensor 't' changed its channel count between batches \(3 then 4\)/);
    }
  });

  it('xtx is the Gram matrix of the rows of the last axis', () => {
    const g = run<XtxStat>({ tensor: 't', kind: 'xtx' }, batches);
    expect(g.size).toBe(5);
    expect(g.rows).toBe(3 * 2 * 3 * 4);
    const all = concat(batches);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let ref = 0;
        for (let r = 0; r < all.length / 5; r++) ref += all[r * 5 + i]! * all[r * 5 + j]!;
        expect(g.gram[i * 5 + j]).toBeCloseTo(ref, 9);
      }
    }
  });
});
