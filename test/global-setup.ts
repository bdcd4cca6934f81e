/**
 * Vitest global setup: builds the CLI once for the run (test/cli-build.ts) and hands its path to
 * the test processes in SLIMNET_TEST_CLI, which test/helpers.ts spawns with plain node. In watch
 * mode the copy is rebuilt before every rerun, so a spawned CLI is never older than the sources.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildTestCli, TEST_CLI_DIR } from './cli-build.js';
import { ROOT } from './helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Copies left by runs that were killed before their teardown (named run-<pid>). */
function removeStale(base: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(join(base, name), { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const base = join(ROOT, TEST_CLI_DIR);
  removeStale(base);
  const out = join(base, `run-${process.pid}`);
  process.env.SLIMNET_TEST_CLI = await buildTestCli(ROOT, out);
  project.onTestsRerun(async () => { await buildTestCli(ROOT, out); });
  return () => rmSync(out, { recursive: true, force: true });
}
