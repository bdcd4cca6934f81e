import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { measurePeakMemory } from '../../src/runtime/memory-probe.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { SYNTHETIC } from '../helpers.js';

describe('peak memory probe', () => {
  it("reports the child's own peak, not the parent's size (ru_maxrss survives exec on Linux)", async () => {
    // Make this process big: a child forked now starts with this much in ru_maxrss.
    const ballast = Buffer.alloc(600 * 1024 * 1024, 1);
    const m = await measurePeakMemory(join(SYNTHETIC, 'conv_block.onnx'), sampleFeeds('conv_block', 1));
    expect(ballast[ballast.length - 1]).toBe(1);
    expect(m.peakRssBytes).toBeLessThan(400 * 1024 * 1024);
    expect(m.peakRssBytes).toBeGreaterThan(m.baselineRssBytes);
  });
});
