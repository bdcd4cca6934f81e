/**
 * Process-wide interruption (Ctrl-C in the CLI). Interrupting cancels every Engine, new and old
 * (no further inference starts; the ones in progress end and their workers stop while idle), and
 * kills the peak-memory probe processes. The CLI then waits for Engine.closeAll() and exits 130.
 * Library callers cancel one operation with an AbortSignal instead; this is for the process.
 */
let interrupted = false;
const listeners: (() => void)[] = [];

export function interruptRuntime(): void {
  if (interrupted) return;
  interrupted = true;
  for (const listener of listeners) listener();
}

export function isInterrupted(): boolean {
  return interrupted;
}

/** Registers what an interrupt must stop (engines, child processes). */
export function onInterrupt(listener: () => void): void {
  listeners.push(listener);
}
