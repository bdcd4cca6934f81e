/**
 * The hostile corpus (fixtures/hostile) through every command, in this process: each case gives
 * its documented exit code and one clear line, writes nothing, changes no input, and never reads
 * the canary file that hostile models point at. `npm run test:reliability` runs the same cases as
 * real processes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHostileCorpus, CANARY_ATIME } from '../../fixtures/hostile/corpus.js';
import { atimeOf, hashSnapshot, runInProcess, runSpawned, statSnapshot } from './run.js';
import { checkResult } from './check.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-hostile-'));
const corpus = buildHostileCorpus(dir);
const inputs = [join(dir, 'models'), join(dir, 'data')];
const hashesBefore = hashSnapshot(inputs);
const spawned = process.env.SLIMNET_RELIABILITY_SPAWN === '1';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`hostile corpus (${corpus.cases.length} cases${spawned ? ', as processes' : ''})`, () => {
  for (const c of corpus.cases) {
    it.skipIf(c.skip !== undefined)(`${c.name}${c.skip ? ` (skipped: ${c.skip})` : ''}`, async () => {
      const before = statSnapshot(inputs);
      const r = spawned ? await runSpawned(c.args, c.env) : await runInProcess(c.args, c.env);
      checkResult(r, c);
      expect(statSnapshot(inputs), `${c.name}: an input changed`).toEqual(before);
      if (c.exit !== 0) expect(readdirSync(corpus.out), `${c.name}: left output behind`).toEqual([]);
      for (const f of readdirSync(corpus.out)) rmSync(join(corpus.out, f), { force: true });
    });
  }

  it('left every input byte for byte as it was, and never read the canary', () => {
    expect(hashSnapshot(inputs)).toEqual(hashesBefore);
    expect(atimeOf(corpus.canary)).toBe(CANARY_ATIME.getTime());
  });
});
