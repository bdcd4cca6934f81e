/**
 * The error hierarchy. Every error slimnet throws on purpose is a SlimnetError whose message names
 * the file, node or flag concerned and says how to fix it; the CLI maps `exitCode` to the process
 * exit code and prints only the message (no stack trace).
 */
export class SlimnetError extends Error {
  /** Process exit code the CLI uses for this kind of error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The model file is missing, unreadable, not ONNX, truncated or structurally wrong. */
export class InvalidModelError extends SlimnetError {
  override readonly exitCode = 3;
}

/** An op, data type or model feature that slimnet cannot handle. */
export class UnsupportedOpError extends SlimnetError {
  override readonly exitCode = 4;
}

/** Calibration or evaluation data that does not match the model or cannot be read. */
export class DataError extends SlimnetError {
  override readonly exitCode = 5;
}

/** A bad option, flag or recipe value. */
export class OptionError extends SlimnetError {
  override readonly exitCode = 2;
}

/** ONNX Runtime failed, or an execution provider is not available. */
export class RuntimeError extends SlimnetError {
  override readonly exitCode = 6;
}

/** A graph pass failed; the message names the pass. */
export class PassError extends SlimnetError {
  override readonly exitCode = 7;
}

/**
 * An output could not be written (disk full, permissions, a directory that went away). Writes go
 * through a temporary file that is removed on failure, so nothing half-written is left behind.
 * 74 is sysexits' EX_IOERR.
 */
export class OutputError extends SlimnetError {
  override readonly exitCode = 74;
}

/** The user cancelled (AbortSignal, Ctrl-C). */
export class CancelledError extends SlimnetError {
  override readonly exitCode = 130;
}

/** A pipeline gate (--max-drop, --min-speedup, --fail-if) was missed. */
export class GateFailedError extends SlimnetError {
  override readonly exitCode = 10;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Throws CancelledError if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) throw new CancelledError(`${what} cancelled`);
}
