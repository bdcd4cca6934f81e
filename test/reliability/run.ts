/**
 * Running slimnet for the reliability suite: in this process (fast: the corpus has about a hundred
 * cases) or as a real process (exit codes as a shell sees them, native aborts, peak memory), and
 * checking that a case left the corpus untouched.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../cli/program.js';
import { ROOT, slimnetArgv, slimnetEnv } from '../helpers.js';

export interface RunResult {
  code: number | null;
  signal?: string | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the process, when measured (spawned runs with peakRss). */
  peakRssBytes?: number;
}

/** Runs the CLI inside this process, capturing what it writes; environment variables set for the call. */
export async function runInProcess(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Reports the process's peak RSS (VmHWM) on exit, to fd 3: test instrumentation, not part of slimnet. */
const PEAK_RSS = join(ROOT, 'test', 'reliability', 'peak-rss.mjs');

/** Runs the CLI as a user would: a real process (asynchronous, so tests can run several at once). */
export function runSpawned(args: string[], env: Record<string, string> = {}, options: { peakRss?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const pre = options.peakRss ? ['--import', PEAK_RSS] : [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...pre, ...slimnetArgv(args)], {
      env: slimnetEnv(env),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let fd3 = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { fd3 += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = { code, signal, stdout, stderr };
      const m = /peakRssBytes=(\d+)/.exec(fd3);
      if (m) result.peakRssBytes = Number(m[1]);
      resolve(result);
    });
  });
}

/** Runs slimnet through bash, after `setup` (e.g. `ulimit -f 50`). */
export function runWithShell(setup: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const quoted = [process.execPath, ...slimnetArgv(args)].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('bash', ['-c', `${setup}; exec ${quoted}`], { env: slimnetEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Starts the CLI and sends it `signal` after `at` ms, or as soon as its stderr matches `at` (a
 * progress line of -v: the same stage on a fast machine as on a slow one); resolves when it has exited.
 */
export function runInterrupted(args: string[], at: number | RegExp, signal: NodeJS.Signals = 'SIGINT'): Promise<RunResult & { ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, slimnetArgv(args), { env: slimnetEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const send = () => { if (!sent) { sent = true; child.kill(signal); } };
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (at instanceof RegExp && at.test(stderr)) send();
    });
    const timer = typeof at === 'number' ? setTimeout(send, at) : undefined;
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Regular files under `dir` (links and FIFOs are not followed or opened). */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return files(path);
    return e.isFile() ? [path] : [];
  });
}

/** Size, mtime and inode of every regular file: cheap enough to take around every case. */
export function statSnapshot(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of dirs) for (const f of files(d)) { const s = lstatSync(f); out.set(f, `${s.size}:${s.mtimeMs}:${s.ino}`); }
  return out;
}

/** sha256 of every regular file, for the start and the end of a run. */
export function hashSnapshot(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of dirs) for (const f of files(d)) out.set(f, createHash('sha256').update(readFileSync(f)).digest('hex'));
  return out;
}

/** The canary's access time (updated by any read of it); stat does not read. */
export function atimeOf(path: string): number {
  return statSync(path).atimeMs;
}
