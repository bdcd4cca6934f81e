import { describe, expect, it } from 'vitest';
import { sqnrAgainst } from '../../src/tune/output-fidelity.js';

describe('output SQNR', () => {
  const ref = [[Float32Array.of(1, -2, 3, 4)]];
  it('is 10 log10(signal / noise) over every element, and Infinity when equal', () => {
    expect(sqnrAgainst(ref, ref)).toBe(Infinity);
    expect(sqnrAgainst(ref, [[Float32Array.of(1.1, -2, 3, 4)]])).toBeCloseTo(10 * Math.log10(30 / 0.01), 3);
  });
  it('leaves out what float itself does not give as a number, and counts a non-finite result where float is finite as infinite error', () => {
    const nonFinite = [[Float32Array.of(1, NaN, 3, -Infinity)]];
    expect(sqnrAgainst(nonFinite, [[Float32Array.of(1.1, 7, 3, 0)]])).toBeCloseTo(10 * Math.log10(10 / 0.01), 3);
    expect(sqnrAgainst(nonFinite, nonFinite)).toBe(Infinity);
    expect(sqnrAgainst(ref, [[Float32Array.of(1, -2, NaN, 4)]])).toBe(-Infinity);
    expect(sqnrAgainst(ref, [[Float32Array.of(1, -2, 3, Infinity)]])).toBe(-Infinity);
  });
});
