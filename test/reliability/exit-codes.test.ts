/**
 * The README's exit-code table against what the commands do, as real processes: every code an
 * error class or the CLI can give is in the table, and every code in the table (but 7 and 70, which
 * no input should reach) is given by some command here.
 */
import { afterAll, describe, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as errors from '../../src/errors.js';
import { EXIT_INTERNAL, EXIT_INTERRUPTED } from '../../cli/run-command.js';
import { EXIT_BUDGET_MISSED } from '../../cli/commands/quantize.js';
import { buildHostileCorpus } from '../../fixtures/hostile/corpus.js';
import { ROOT, TRAINED } from '../helpers.js';
import { runInterrupted, runSpawned, runWithShell } from './run.js';
import { checkResult } from './check.js';

/** The rows of the README's table: code -> meaning. */
function readmeExitCodes(): Map<number, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| code | meaning |'));
  const rows = new Map<number, string>();
  for (const line of table.split('\n').slice(2)) {
    const m = /^\| (\d+) \| (.+) \|$/.exec(line);
    if (!m) break;
    rows.set(Number(m[1]), m[2]!);
  }
  return rows;
}

const documented = readmeExitCodes();
const dir = mkdtempSync(join(tmpdir(), 'slimnet-exit-'));
const corpus = buildHostileCorpus(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One corpus case per exit code, run as a real process. */
const SAMPLES: Record<number, string> = {
  0: 'external data inside the directory (control): inspect',
  2: '-o equal to the input',
  3: 'external symlink: quantize dynamic',
  4: 'unknown op: quantize static',
  5: 'npz bomb (3 GB from 3 MB): calibrate',
  6: 'a model that fails at run time: calibrate',
  10: 'bench gate on a provider that cannot run',
};

// Real processes spend most of their time starting up: run a few at once.
describe.concurrent('exit codes', () => {
  it('the README documents every code slimnet gives', ({ expect }) => {
    const classes = Object.values(errors).filter((e): e is typeof errors.SlimnetError => typeof e === 'function' && e.prototype instanceof errors.SlimnetError);
    const codes = new Set([0, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BUDGET_MISSED, ...classes.map((C) => new C('x').exitCode)]);
    for (const code of codes) expect(documented.has(code), `exit code ${code} is not in the README's table`).toBe(true);
    expect([...documented.keys()].filter((c) => !codes.has(c) && c !== 143)).toEqual([]);
  });

  for (const [code, name] of Object.entries(SAMPLES)) {
    it(`${code}: ${documented.get(Number(code))?.split(':')[0]} (${name})`, async ({ expect }) => {
      const c = corpus.cases.find((x) => x.name === name)!;
      checkResult(await runSpawned(c.args, c.env), c, expect);
    });
  }

  it.skipIf(spawnSync('bash', ['-c', 'true']).status !== 0)('74: an output that fails while being written (file size limit), with nothing left', async ({ expect }) => {
    const out = join(dir, 'out74');
    mkdirSync(out);
    // ulimit -f: writes past 50 KB fail with EFBIG (Node ignores SIGXFSZ), after the checks passed.
    const r = await runWithShell('ulimit -f 50', ['quantize', join(TRAINED, 'resnet_bn.onnx'), '-o', join(out, 'big.onnx'), '--mode', 'dynamic']);
    expect(r.code, r.stderr).toBe(74);
    expect(r.stderr).toMatch(/big\.onnx: cannot write \(the file is too large for this file system\); nothing was written there/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('11: an accuracy budget nothing meets; the most accurate model is still written, with its plan', async ({ expect }) => {
    const out = join(dir, 'out11');
    mkdirSync(out);
    const base = join(dir, 'models', 'base.onnx');
    const data = join(dir, 'data', 'base.npz');
    const r = await runSpawned(['quantize', base, '-o', join(out, 'q.onnx'), '--calib', data, '--max-drop', '-1', '--eval-data', data, '--metric', 'agreement', '--plan-out', join(out, 'plan.json')]);
    expect(r.code, r.stderr).toBe(EXIT_BUDGET_MISSED);
    expect(readdirSync(out).sort()).toEqual(['plan.json', 'q.onnx']);
  });

  it('130: interrupted (Ctrl-C during calibration), with nothing left', async ({ expect }) => {
    const outDir = join(dir, 'out130');
    mkdirSync(outDir);
    const out = join(outDir, 'ranges.json');
    // Once calibration has started (its first progress line of -v), however fast the machine.
    const r = await runInterrupted(['calibrate', join(TRAINED, 'resnet_bn.onnx'), '--calib', join(ROOT, 'fixtures', 'data', 'fmnist_test.npz'), '--method', 'entropy', '-o', out, '-v'], /calibrate \d+\/\d+/);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/terminate called|Napi::|Aborted/);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
