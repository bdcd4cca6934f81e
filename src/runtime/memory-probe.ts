/**
 * Peak memory of one model: a short-lived process loads it into ONNX Runtime, runs it a few times
 * and reports its maximum resident set size, and how much of that the model added over the
 * runtime alone. Separate processes keep models from sharing (or hiding in) each other's memory.
 * The same process serves load checks (load-check.ts): a crash there stays in the child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionProvider, Feeds, OptimizationLevel } from './types.js';
import { CancelledError, RuntimeError } from '../errors.js';
import { isInterrupted, onInterrupt } from './interrupt.js';

/** Probe processes running now; an interrupt kills them (they hold no files of ours). */
const liveProbes = new Set<ChildProcess>();
onInterrupt(() => { for (const p of liveProbes) p.kill('SIGKILL'); });

export interface ProbeRequest {
  source: string | Uint8Array;
  provider: ExecutionProvider;
  threads: number;
  /** Runs after the load; 0 only loads (graph optimizations run at load). */
  runs: number;
  feeds: Feeds;
  /** ONNX Runtime's graph optimization level; default 'all' (its own default). */
  level?: OptimizationLevel;
  /**
   * Load checks: the process may have served checks before and waits for the next one after
   * (a new process costs Node's start and ONNX Runtime's import, most of a check on a small
   * model). Peak memory always gets a fresh process.
   */
  reuse?: boolean;
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

/** How a probe process ended when it sent no reply: killed by a signal (a native crash) or an exit code. */
export class ProbeExit extends RuntimeError {
  constructor(readonly stage: 'loading' | 'running', readonly signal: NodeJS.Signals | null, readonly code: number | null, readonly stderrTail: string) {
    super(`exited ${signal ? `on signal ${signal}` : `with code ${code}`} while ${stage} the model, before reporting${stderrTail ? `: ${stderrTail}` : ''}`);
  }
}

/** A native stack frame, a separator or V8's GC trace: what a fatal error prints around its message. */
const NOT_A_MESSAGE = /^(\d+: 0x|-----|<---|\[\d+:0x)/;

/** The last line of a dead process's stderr that says something ('FATAL ERROR: ...'), not a stack frame. */
function lastMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !NOT_A_MESSAGE.test(l));
  return lines.pop() ?? '';
}

/**
 * One model in a fresh process (see memory-probe-child.mjs), or with `reuse` in the idle one of an
 * earlier check: the process boundary also keeps a native crash of ONNX Runtime (a segfault at
 * load) from taking slimnet down with it. Rejects with ProbeExit when the process dies without
 * replying, CancelledError on an interrupt.
 */
export async function runProbe(request: ProbeRequest): Promise<ProbeReply> {
  if (isInterrupted()) throw new CancelledError('model probe cancelled');
  const proc = (request.reuse && takeIdle()) || startProbe();
  let stderr = '';
  let stage: 'loading' | 'running' = 'loading';
  let replied = false;
  const onData = (d: Buffer) => { stderr += d.toString(); };
  let onMessage = (_m: ProbeReply | { loaded: true }) => undefined as void;
  let onExit = (_code: number | null, _signal: NodeJS.Signals | null) => undefined as void;
  let onError = (_err: Error) => undefined as void;
  proc.stderr?.on('data', onData);
  return new Promise<ProbeReply>((resolve, reject) => {
    onMessage = (m) => {
      if ('loaded' in m) stage = 'running';
      else { replied = true; resolve(m); }
    };
    onExit = (code, signal) => {
      // Ctrl-C in a terminal reaches the whole process group: the probe may die of it first.
      if (signal === 'SIGINT') reject(new CancelledError('model probe interrupted'));
      else reject(new ProbeExit(stage, signal, code, lastMessage(stderr)));
    };
    onError = (err) => reject(new RuntimeError(`model probe could not start: ${err.message}`));
    proc.on('message', onMessage);
    proc.once('exit', onExit);
    proc.once('error', onError);
    // A send that fails (the process already died) is reported by its 'exit', with the signal.
    proc.send(request, () => undefined);
  }).catch((err: unknown) => {
    // Ctrl-C reaches the probe too (same process group), or the interrupt killed it.
    throw isInterrupted() ? new CancelledError('model probe cancelled') : err;
  }).finally(() => {
    proc.off('message', onMessage);
    proc.off('exit', onExit);
    proc.off('error', onError);
    proc.stderr?.off('data', onData);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (request.reuse && replied && !isInterrupted()) park(proc);
    else proc.kill();
  });
}

/** Plain JavaScript beside this file, from the sources as from dist/: node starts it without tsx. */
function startProbe(): ChildProcess {
  const child = fileURLToPath(new URL('./memory-probe-child.mjs', import.meta.url));
  const proc = fork(child, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  liveProbes.add(proc);
  proc.once('exit', () => {
    liveProbes.delete(proc);
    if (idle?.proc === proc) idle = undefined;
  });
  return proc;
}

/** How long a check process waits for the next check before it ends. */
const IDLE_MS = 5000;
/** The check process between two checks; it keeps neither this process alive nor its memory for long. */
let idle: { proc: ChildProcess; timer: NodeJS.Timeout } | undefined;

/** Waits for the next check, unreferenced: the process may exit meanwhile (the child then sees its channel close and exits). */
function park(proc: ChildProcess, waitMs = IDLE_MS): void {
  if (idle) {
    proc.kill();
    return;
  }
  proc.unref();
  proc.channel?.unref();
  (proc.stderr as { unref?: () => void } | null)?.unref?.();
  const timer = setTimeout(() => {
    // No longer idle from now on, not from its 'exit': a check in this same turn of the event loop
    // (the timer fired late, after a blocking step) would otherwise be handed a dying process.
    if (idle?.proc === proc) idle = undefined;
    proc.kill();
  }, waitMs).unref();
  idle = { proc, timer };
}

/** How long a check process started ahead of time waits for its first check. */
const PREWARM_MS = 120_000;

/**
 * Starts a check process ahead of time, as the idle one: Node's start and ONNX Runtime's import
 * (most of a check on a small model: 265 ms cold against 24 ms in a process that is up, on the
 * Fashion-MNIST ResNet) then happen while the caller quantizes. A process idle already (an earlier
 * command's, in the same process) is kept for as long instead of its few seconds.
 */
export function prewarmProbe(): void {
  if (isInterrupted()) return;
  park(takeIdle() ?? startProbe(), PREWARM_MS);
}

function takeIdle(): ChildProcess | undefined {
  const taken = idle;
  idle = undefined;
  if (!taken) return undefined;
  clearTimeout(taken.timer);
  if (!taken.proc.connected || taken.proc.killed) {
    taken.proc.kill();
    return undefined;
  }
  taken.proc.ref();
  taken.proc.channel?.ref();
  (taken.proc.stderr as { ref?: () => void } | null)?.ref?.();
  return taken.proc;
}

export async function measurePeakMemory(source: string | Uint8Array, feeds: Feeds, options: { provider?: ExecutionProvider; threads?: number; runs?: number } = {}): Promise<PeakMemory> {
  const request: ProbeRequest = { source, provider: options.provider ?? 'cpu', threads: options.threads ?? 1, runs: options.runs ?? 3, feeds };
  const reply = await runProbe(request).catch((err: unknown) => {
    throw err instanceof ProbeExit ? new RuntimeError(`memory probe ${err.message}`) : err;
  });
  if (!reply.ok) throw new RuntimeError(`memory probe: ONNX Runtime failed on the model: ${reply.error}`);
  return { peakRssBytes: reply.peakRssBytes, baselineRssBytes: reply.baselineRssBytes, modelBytes: Math.max(0, reply.peakRssBytes - reply.baselineRssBytes) };
}
