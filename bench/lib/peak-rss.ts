/** Peak resident memory and wall time of a child process (the CLI as users run it), via GNU time. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ChildUsage {
  code: number | null;
  /** Peak resident set size in MB (undefined without /usr/bin/time). */
  peakMb?: number;
  seconds: number;
  stdout: string;
  stderr: string;
}

/** Runs `node args...` and reports its peak RSS (GNU time's %M) and wall time. */
export function runNodeMeasured(args: string[], env: Record<string, string> = {}): ChildUsage {
  const timed = existsSync('/usr/bin/time');
  const cmd = timed ? '/usr/bin/time' : process.execPath;
  const argv = timed ? ['-f', 'SLIMNET_PEAK_KB=%M', process.execPath, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /SLIMNET_PEAK_KB=(\d+)/.exec(r.stderr);
  return { code: r.status, ...(m ? { peakMb: Number(m[1]) / 1024 } : {}), seconds, stdout: r.stdout, stderr: r.stderr.replace(/SLIMNET_PEAK_KB=\d+\n?/, '') };
}
