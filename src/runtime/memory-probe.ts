/**
 * Peak memory of one model: a short-lived process loads it into ONNX Runtime, runs it a few times
 * and reports its maximum resident set size, and how much of that the model added over the
 * runtime alone. Separate processes keep models from sharing (or hiding in) each other's memory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ExecutionProvider, Feeds } from './types.js';
import { CancelledError, RuntimeError } from '../errors.js';
import { isInterrupted, onInterrupt } from './interrupt.js';

/** Probe processes running now; an interrupt kills them (they hold no files of ours). */
const liveProbes = new Set<ChildProcess>();
onInterrupt(() => { for (const p of liveProbes) p.kill('SIGKILL'); });

export interface ProbeRequest {
  source: string | Uint8Array;
  provider: ExecutionProvider;
  threads: number;
  runs: number;
  feeds: Feeds;
}

export type ProbeReply = { ok: true; baselineRssBytes: number; peakRssBytes: number } | { ok: false; error: string };

export interface PeakMemory {
  /** Maximum resident set size of the process that loaded and ran the model. */
  peakRssBytes: number;
  /** The same process before the session existed (Node plus ONNX Runtime). */
  baselineRssBytes: number;
  /** What the model added: peak minus baseline. */
  modelBytes: number;
}

export async function measurePeakMemory(source: string | Uint8Array, feeds: Feeds, options: { provider?: ExecutionProvider; threads?: number; runs?: number } = {}): Promise<PeakMemory> {
  if (isInterrupted()) throw new CancelledError('memory probe cancelled');
  const fromSource = import.meta.url.endsWith('.ts');
  const child = fileURLToPath(new URL(fromSource ? './memory-probe-child.ts' : './memory-probe-child.js', import.meta.url));
  const execArgv = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  const proc = fork(child, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  liveProbes.add(proc);
  proc.once('exit', () => liveProbes.delete(proc));
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const request: ProbeRequest = { source, provider: options.provider ?? 'cpu', threads: options.threads ?? 1, runs: options.runs ?? 3, feeds };
  const reply = await new Promise<ProbeReply>((resolve, reject) => {
    proc.once('message', (m: ProbeReply) => resolve(m));
    proc.once('exit', (code, signal) => {
      // Ctrl-C in a terminal reaches the whole process group: the probe may die of it first.
      if (signal === 'SIGINT') reject(new CancelledError('memory probe interrupted'));
      else reject(new RuntimeError(`memory probe exited with code ${code} before reporting${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
    proc.once('error', (err) => reject(new RuntimeError(`memory probe could not start: ${err.message}`)));
    proc.send(request);
  }).catch((err: unknown) => {
    // Ctrl-C reaches the probe too (same process group), or the interrupt killed it.
    throw isInterrupted() ? new CancelledError('memory probe cancelled') : err;
  }).finally(() => { if (proc.exitCode === null) proc.kill(); });
  if (!reply.ok) throw new RuntimeError(`memory probe: ONNX Runtime failed on the model: ${reply.error}`);
  return { peakRssBytes: reply.peakRssBytes, baselineRssBytes: reply.baselineRssBytes, modelBytes: Math.max(0, reply.peakRssBytes - reply.baselineRssBytes) };
}
