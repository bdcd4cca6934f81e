/** How many paired rounds the timing takes: as before for fast models, capped for models that run for seconds. */
import { describe, expect, it } from 'vitest';
import { MIN_ROUNDS, MIN_SLOW_ROUNDS, SLOW_CANDIDATE_MS, plainAnswer, roundsFor } from '../../src/tune/paired-timing.js';
import { ratioStats } from '../../src/tune/latency-decision.js';

describe('paired timing rounds', () => {
  it('a model of a millisecond gets at least MIN_ROUNDS rounds, more within the timing budget', () => {
    const r = roundsFor(1, 1);
    expect(r.min).toBe(MIN_ROUNDS);
    expect(r.max).toBeGreaterThan(MIN_ROUNDS);
    // A caller asking for more (the accuracy budget's finals) gets them.
    expect(roundsFor(1, 1, 60).max).toBeGreaterThanOrEqual(60);
  });

  it('a megapixel model (seconds per round) is capped to the slow budget, never below MIN_SLOW_ROUNDS', () => {
    const r = roundsFor(3000, 1, 60);
    expect(r.max).toBe(MIN_SLOW_ROUNDS);
    expect(r.min).toBe(MIN_SLOW_ROUNDS);
    const mid = roundsFor(1000, 1, 60);
    expect(mid.max * 1000).toBeLessThanOrEqual(SLOW_CANDIDATE_MS);
    expect(mid.max).toBeGreaterThan(MIN_SLOW_ROUNDS);
  });

  it('ten rounds settle a plain answer only (1.25x faster or 10% slower across the interval)', () => {
    const float = Array.from({ length: 10 }, (_, i) => 45 + (i % 3));
    const at = (ratio: number, spread: number) => ratioStats(float.map((f, i) => f * ratio * (1 + spread * ((i % 5) - 2))), float);
    expect(plainAnswer(at(0.31, 0.02))).toBe(true); // ResNet-50 int8 here: 3.2x
    expect(plainAnswer(at(1.3, 0.02))).toBe(true);
    expect(plainAnswer(at(0.9, 0.02))).toBe(false); // 1.1x: needs MIN_ROUNDS
    expect(plainAnswer(at(0.78, 0.05))).toBe(false); // fast, but its interval reaches past 0.8
  });
});

