import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { RUNS_BUDGET_MS, latencyStats, measureInterleaved, percentile, runsWithinBudget } from '../../src/tune/latency.js';
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

describe('timed runs within the time budget', () => {
  it('keeps the defaults for a fast model and takes fewer runs after one warm-up when a run takes seconds', () => {
    expect(runsWithinBudget(2, { runs: 50, warmup: 10 })).toEqual({ runs: 50, warmup: 10 });
    const slow = runsWithinBudget(3000, { runs: 50, warmup: 10 });
    expect(slow.runs).toBe(Math.floor(RUNS_BUDGET_MS / 3000));
    expect(slow.warmup).toBe(1);
    expect(slow.note).toMatch(/10 timed runs per model, not 50, after 1 warm-up: one run takes up to 3\.0 s/);
    // Never fewer than 5, however slow.
    expect(runsWithinBudget(60_000, { runs: 30, warmup: 10 }).runs).toBe(5);
  });
});
