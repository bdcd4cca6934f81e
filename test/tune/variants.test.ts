/** Choosing among measured variants: the budget, the preference, ties, the Pareto front, the bisection. */
import { describe, expect, it } from 'vitest';
import { choose, paretoFront, smallestFitting, type VariantRecord } from '../../src/tune/variants.js';

const v = (label: string, drop: number, latencyRatio: number | undefined, sizeBytes: number, keptFloat = 0): VariantRecord =>
  ({ label, drop, score: 0, sizeBytes, keptFloat, withinBudget: drop <= 0.5, ...(latencyRatio === undefined ? {} : { latencyRatio, latencyRatioHigh: latencyRatio }) });

describe('variants', () => {
  const fast = v('fast', 0.4, 0.5, 200);
  const small = v('small', 0.3, 0.7, 150);
  const exact = v('exact', 0.0, 1, 180, 30);
  const over = v('over', 0.9, 0.4, 140);
  it('keeps the fastest, smallest or most accurate inside the budget, never one over it', () => {
    expect(choose([fast, small, exact, over], 'speed')!.label).toBe('fast');
    expect(choose([fast, small, exact, over], 'size')!.label).toBe('small');
    expect(choose([fast, small, exact, over], 'accuracy')!.label).toBe('exact');
    expect(choose([over], 'speed')).toBeUndefined();
  });

  it('does not buy accuracy for noise: speeds within 3%, or not clearly faster than float, tie', () => {
    const a = v('a', 0.4, 0.80, 200);
    const b = v('b', 0.1, 0.81, 200);
    expect(choose([a, b], 'speed')!.label).toBe('b');
    // 0.99x of float is float speed: the more accurate float-compute variant wins.
    expect(choose([v('int8', 0.2, 0.99, 150), v('storage', 0.1, 1, 150)], 'speed')!.label).toBe('storage');
    // Both clearly faster, their 95% intervals overlapping: the timing cannot order them, the drop decides.
    const iv = (label: string, drop: number, r: number, low: number, high: number): VariantRecord => ({ ...v(label, drop, r, 150), latencyRatioLow: low, latencyRatioHigh: high });
    expect(choose([iv('compute', 0.1, 0.82, 0.75, 0.9), iv('weights', 0, 0.88, 0.8, 0.95)], 'speed')!.label).toBe('weights');
    expect(choose([iv('compute', 0.1, 0.7, 0.65, 0.74), iv('weights', 0, 0.88, 0.8, 0.95)], 'speed')!.label).toBe('compute');
    // One clearly faster, the other's interval reaching 1, overlapping: still the same speed; whatever the order given.
    const pair = [iv('compute', 0.1, 0.9, 0.82, 0.97), iv('weights', 0, 0.86, 0.76, 1.04), v('storage', 0.2, 1, 140)];
    expect(choose(pair, 'speed')!.label).toBe('weights');
    expect(choose([...pair].reverse(), 'speed')!.label).toBe('weights');
    // A variant clearly slower than float is not float speed: the float-compute variant wins even when less accurate.
    expect(choose([v('slow-int8', -0.1, 1.6, 150), v('storage', 0.1, 1, 150)], 'speed')!.label).toBe('storage');
    expect(choose([v('slow-int8', -0.1, 1.02, 150), v('storage', 0.1, 1, 150)], 'speed')!.label).toBe('slow-int8');
    // 1.05x float with an interval reaching below 1 is float speed within noise.
    expect(choose([{ ...v('noisy-int8', -0.1, 1.05, 150), latencyRatioLow: 0.97 }, v('storage', 0.1, 1, 150)], 'speed')!.label).toBe('noisy-int8');
    // Same everything: fewer nodes kept float, then the label, so the answer is always the same.
    expect(choose([v('y', 0.1, 0.8, 100, 3), v('x', 0.1, 0.8, 100, 3), v('z', 0.1, 0.8, 100, 1)], 'speed')!.label).toBe('z');
  });

  it('finds the Pareto front', () => {
    expect(paretoFront([fast, small, exact, over, v('dominated', 0.5, 0.9, 250)]).map((x) => x.label).sort()).toEqual(['exact', 'fast', 'over', 'small']);
  });

  it('bisects for the fewest layers that fit, in about log2(n) evaluations', async () => {
    const calls: number[] = [];
    const k = await smallestFitting(0, 100, async (x) => { calls.push(x); return x >= 37; });
    expect(k).toBe(37);
    expect(calls.length).toBeLessThanOrEqual(8);
    expect(await smallestFitting(0, 10, async () => true)).toBe(0);
  });
});
