/** AWQ's clip search computes the round-trip error of a clamped block as RTN then dequantization would, bit for bit. */
import { describe, expect, it } from 'vitest';
import { clampedRoundTrip } from '../../src/quantize/weight-only/awq-clip.js';
import { dequantizeBlocks, quantizeRtn, type BlockSpec } from '../../src/quantize/weight-only/block-quant.js';
import { mulberry32 } from '../../src/random.js';

describe('AWQ clip search: clamped round trip', () => {
  const next = mulberry32(11);
  const K = 52, N = 7;
  // Mixed magnitudes, a few outliers, exact zeros, an all-zero column.
  const w = Float32Array.from({ length: K * N }, (_, i) => (i % N === 6 ? 0 : i % 13 === 0 ? 0 : (next() - 0.5) * (i % 17 === 0 ? 8 : 1)));
  for (const spec of [{ bits: 4, blockSize: 32, symmetric: false }, { bits: 4, blockSize: 32, symmetric: true }, { bits: 8, blockSize: 16, symmetric: false }] as BlockSpec[]) {
    it(`equals quantizeRtn + dequantizeBlocks of the clamped block (int${spec.bits}, block ${spec.blockSize}, ${spec.symmetric ? 'symmetric' : 'asymmetric'}, last block partial)`, () => {
      for (let k0 = 0; k0 < K; k0 += spec.blockSize) {
        const B = Math.min(spec.blockSize, K - k0);
        const hi = new Float64Array(N);
        for (let a = 0; a < B; a++) for (let n = 0; n < N; n++) hi[n] = Math.max(hi[n]!, Math.abs(w[(k0 + a) * N + n]!));
        for (const r of [1, 0.85, 0.5]) {
          const block = new Float32Array(B * N);
          for (let a = 0; a < B; a++) for (let n = 0; n < N; n++) {
            const v = w[(k0 + a) * N + n]!;
            block[a * N + n] = Math.min(r * hi[n]!, Math.max(-r * hi[n]!, v));
          }
          const deq = dequantizeBlocks(quantizeRtn(block, B, N, spec));
          const expected = Array.from({ length: B * N }, (_, i) => w[k0 * N + i]! - deq[i]!);
          const d = new Float64Array(B * 3 * N);
          clampedRoundTrip(w, k0, B, N, r, hi, spec, d, 3 * N, N);
          const got = Array.from({ length: B * N }, (_, i) => d[Math.floor(i / N) * 3 * N + N + (i % N)]!);
          expect(got).toEqual(expected);
        }
      }
    });
  }
});
