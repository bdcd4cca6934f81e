/**
 * What a lie costs: the peak resident memory of slimnet (a real process) on inputs that claim far
 * more than they hold: a 3 MB .npz that inflates to 3 GB, the same bomb declaring 4 KB, a .npy
 * header claiming 6.4 GB, tensors whose dims claim 360 GB. Each is refused with its exit code, and
 * the process stays far under 2 GB (before these checks: 9.1 GiB on the bomb).
 */
import { afterAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHostileCorpus } from '../../fixtures/hostile/corpus.js';
import { runSpawned } from './run.js';
import { checkResult } from './check.js';

const LIMIT = 2 * 1024 ** 3;
const dir = mkdtempSync(join(tmpdir(), 'slimnet-memory-'));
const corpus = buildHostileCorpus(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES = [
  'npz bomb (3 GB from 3 MB): calibrate',
  'npz bomb declaring 4 KB: calibrate',
  'npy header claims 100M samples: calibrate',
  'dims lie: quantize dynamic',
  'external dims lie: quantize dynamic',
];

describe.concurrent('peak memory on inputs that lie about their size', () => {
  for (const name of CASES) {
    it(name, async ({ expect }) => {
      const c = corpus.cases.find((x) => x.name === name)!;
      const r = await runSpawned(c.args, c.env, { peakRss: true });
      checkResult(r, c, expect);
      expect(r.peakRssBytes, 'peak RSS was not reported').toBeDefined();
      process.stdout.write(`peak RSS, ${name}: ${(r.peakRssBytes! / 1024 ** 2).toFixed(0)} MB\n`);
      expect(r.peakRssBytes!).toBeLessThan(LIMIT);
    });
  }
});
