import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { latencyStats, measureInterleaved, percentile } from '../../src/tune/latency.js';
import { parseCpuFlags } from '../../src/target/hardware.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { SYNTHETIC } from '../helpers.js';

describe('latency statistics', () => {
  it('computes median and nearest-rank percentiles', () => {
    const s = latencyStats([5, 1, 3, 2, 4, 10, 6, 7, 8, 9]);
    expect(s.medianMs).toBe(5.5);
    expect(s.p90Ms).toBe(9);
    expect(s.minMs).toBe(1);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });

  it('measures real models interleaved, timing inside the worker', async () => {
    const path = join(SYNTHETIC, 'conv_block.onnx');
    const [a, b] = await measureInterleaved([path, path], sampleFeeds('conv_block', 1), { warmup: 2, runs: 5 });
    expect(a!.runs).toBe(5);
    expect(a!.medianMs).toBeGreaterThan(0);
    expect(b!.runs).toBe(5);
  });

  it('reads int8-relevant CPU flags', () => {
    expect(parseCpuFlags('flags\t\t: fpu sse avx2 avx512f avx512_vnni avx_vnni fma\n')).toEqual(['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni']);
    expect(parseCpuFlags('Features\t: fp asimd asimddp i8mm\n')).toEqual(['asimd', 'asimddp', 'i8mm']);
  });
});
