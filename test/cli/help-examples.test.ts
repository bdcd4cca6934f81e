/**
 * Every example printed by `slimnet <command> --help` runs as written and exits 0: in a scratch
 * directory laid out like a clone (fixtures/models and fixtures/data linked, fixtures/pipelines
 * copied, an empty out/), so the examples write only there.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, slimnet, slimnetArgv, slimnetEnv } from '../helpers.js';
import { examplesIn } from '../../cli/examples.js';

const run = promisify(execFile);

/** A command line as the help prints it (no quotes needed by any example) to argv. */
function argv(line: string): string[] {
  expect(line).not.toMatch(/["'\\$`|;&<>]/);
  return line.split(/\s+/).slice(1);
}

function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slimnet-examples-'));
  mkdirSync(join(dir, 'out'));
  mkdirSync(join(dir, 'fixtures'));
  for (const d of ['models', 'data']) symlinkSync(join(FIXTURES, d), join(dir, 'fixtures', d));
  cpSync(join(FIXTURES, 'pipelines'), join(dir, 'fixtures', 'pipelines'), { recursive: true });
  return dir;
}

async function runExamples(commands: string[], cwd: string): Promise<string[]> {
  const failures: string[] = [];
  for (const command of commands) {
    const help = slimnet([command, '--help']);
    expect(help.code).toBe(0);
    const examples = examplesIn(help.stdout);
    expect(examples.length, `${command} --help shows 2-4 examples`).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(4);
    for (const line of examples) {
      expect(line.startsWith(`slimnet ${command} `)).toBe(true);
      try {
        await run(process.execPath, slimnetArgv(argv(line)), { cwd, env: slimnetEnv(), timeout: 120_000, maxBuffer: 64 << 20 });
      } catch (err) {
        const e = err as { code?: number; stderr?: string };
        failures.push(`${line}: exit ${e.code}: ${e.stderr?.trim().split('\n').slice(-3).join(' | ')}`);
      }
    }
  }
  return failures;
}

describe('--help examples', () => {
  it('every example of inspect, calibrate, eval, bench, quantize, prune and run exits 0', async () => {
    const cwd = sandbox();
    // Two lanes for two cores; run's examples replay the recipes prune's examples save.
    const lanes = await Promise.all([
      runExamples(['inspect', 'calibrate', 'eval', 'bench'], cwd),
      runExamples(['quantize', 'prune', 'run'], cwd),
    ]);
    expect(lanes.flat()).toEqual([]);
  }, 300_000);

  it('finds the examples in a help text, and only the command lines', () => {
    const help = `Usage: x\n\nExamples (from the root of a clone, after mkdir -p out; the fixtures ship with it):\n  slimnet a b\n  slimnet c\n\npipeline.yaml:\n  slimnet not-an-example\n`;
    expect(examplesIn(help)).toEqual(['slimnet a b', 'slimnet c']);
    expect(examplesIn('Usage: x\n')).toEqual([]);
  });
});
