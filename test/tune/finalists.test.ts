/** The finals among variants all clearly faster than float: data orders them, only a clear gap in direct timing overturns that. */
import { describe, expect, it } from 'vitest';
import { byPreference, decideFinals } from '../../src/tune/finalists.js';
import type { RatioStats } from '../../src/tune/latency-decision.js';
import type { VariantRecord } from '../../src/tune/variants.js';

const v = (label: string, drop: number, sizeBytes = 100, keptFloat = 0): VariantRecord =>
  ({ label, drop, score: 0, sizeBytes, keptFloat, withinBudget: true, latencyRatio: 0.8, latencyRatioHigh: 0.9 });
const ratio = (median: number, low: number, high: number): RatioStats => ({ median, low, high, rounds: 20 });

describe('finals', () => {
  const weights = v('weights', 0.256, 100);
  const one = v('compute + 1 float', -0.256, 120, 1);
  const three = v('compute + 3 float', -0.384, 130, 3);

  it('orders by drop, size, layers kept float, then label, whatever order the variants come in', () => {
    expect([weights, one, three].sort(byPreference).map((x) => x.label)).toEqual(['compute + 3 float', 'compute + 1 float', 'weights']);
    expect([v('b', 0, 100, 2), v('a', 0, 100, 2), v('c', 0, 90, 5)].sort(byPreference).map((x) => x.label)).toEqual(['c', 'a', 'b']);
  });

  it('keeps the most preferred when no challenger is clearly faster than it (the gap inside the noise)', async () => {
    const asked: string[][] = [];
    const r = await decideFinals([weights, one, three], async (ref, ch) => {
      asked.push([ref.label, ...ch.map((c) => c.label)]);
      // 0.96x with an interval reaching 1.01, and 0.99x: neither is a clear win.
      return ch.map((c) => (c === weights ? ratio(0.96, 0.9, 1.01) : ratio(0.99, 0.95, 1.03)));
    });
    expect(r.winner.label).toBe('compute + 3 float');
    expect(asked).toEqual([['compute + 3 float', 'compute + 1 float', 'weights']]);
    expect(r.duels.map((d) => d.challenger)).toEqual(['compute + 1 float', 'weights']);
  });

  it('a challenger clearly faster wins; several clearly faster play another round among themselves', async () => {
    const single = await decideFinals([weights, one, three], async (_ref, ch) => ch.map((c) => (c === weights ? ratio(0.8, 0.75, 0.86) : ratio(1, 0.97, 1.03))));
    expect(single.winner.label).toBe('weights');
    const rounds: string[] = [];
    const both = await decideFinals([weights, one, three], async (ref, ch) => {
      rounds.push(ref.label);
      // Round 1: both beat "3 float" clearly; round 2: weights is not clearly faster than "1 float".
      return ch.map(() => (ref === three ? ratio(0.8, 0.75, 0.85) : ratio(0.97, 0.93, 1.02)));
    });
    expect(rounds).toEqual(['compute + 3 float', 'compute + 1 float']);
    expect(both.winner.label).toBe('compute + 1 float');
    expect(both.duels).toHaveLength(3);
  });

  it('one finalist needs no timing', async () => {
    const r = await decideFinals([weights], async () => { throw new Error('timed'); });
    expect(r.winner).toBe(weights);
    expect(r.duels).toEqual([]);
  });
});
