/** Runs the slimnet CLI as a user does: a real process from the TypeScript sources. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

export function slimnet(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'slimnet.js'), ...args], { encoding: 'utf8', env: { ...process.env, SLIMNET_FROM_SOURCE: '1', ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
