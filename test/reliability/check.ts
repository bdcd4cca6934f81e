/** What every case of the hostile corpus must show, however it was run. */
import { expect as globalExpect, type ExpectStatic } from 'vitest';
import type { HostileCase } from '../../fixtures/hostile/corpus.js';
import type { RunResult } from './run.js';

/** Its exit code; its message on exactly one line of stderr (in the output for exit 0 and 10); no stack, no native abort. */
export function checkResult(r: RunResult, c: HostileCase, expect: ExpectStatic = globalExpect): void {
  const where = `${c.name}: slimnet ${c.args.join(' ')}\n${r.stderr}`;
  expect(r.code, where).toBe(c.exit);
  expect(r.stderr, where).not.toMatch(/internal error|terminate called|Napi::|\n\s+at /);
  if (c.exit === 0 || c.exit === 10) {
    expect(`${r.stdout}\n${r.stderr}`, where).toMatch(c.message);
  } else {
    expect(r.stderr, where).toMatch(c.message);
    expect(r.stderr.trim().split('\n'), where).toHaveLength(1);
    expect(r.stdout, where).toBe('');
  }
}
