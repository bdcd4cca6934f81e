/**
 * Writes files through a temporary name in the same directory and renames them into place, so an
 * interrupted run (error, Ctrl-C) never leaves a half-written output.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const pendingTemps = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs on process.exit and normal end; SIGINT/SIGTERM handlers in the CLI call process.exit.
  process.on('exit', removePendingTemps);
}

/** Removes every temporary file not yet committed (on exit, and before a hard exit on a signal). */
export function removePendingTemps(): void {
  for (const p of pendingTemps) rmSync(p, { recursive: true, force: true });
  pendingTemps.clear();
}

/** A temporary file or directory to remove if the process exits before `release` is called. */
export function removeOnExit(path: string): { release(): void } {
  installExitHook();
  pendingTemps.add(path);
  return { release: () => { pendingTemps.delete(path); } };
}

export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** An open temporary file that becomes `finalPath` on commit() and disappears on abort(). */
export class AtomicFile {
  readonly tempPath: string;
  private fd: number;
  private position = 0;
  private closed = false;

  constructor(readonly finalPath: string) {
    installExitHook();
    this.tempPath = tempPathFor(finalPath);
    this.fd = openSync(this.tempPath, 'w');
    pendingTemps.add(this.tempPath);
  }

  get size(): number {
    return this.position;
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      done += writeSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 30), this.position + done);
    }
    this.position += bytes.length;
  }

  /** Pads with zeros up to a multiple of `alignment`. */
  align(alignment: number): void {
    const pad = (alignment - (this.position % alignment)) % alignment;
    if (pad) this.write(new Uint8Array(pad));
  }

  /** Flushes and closes, leaving the temp file for a later rename (see commitAll). */
  close(): void {
    if (this.closed) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }

  commit(): void {
    this.close();
    renameSync(this.tempPath, this.finalPath);
    pendingTemps.delete(this.tempPath);
  }

  abort(): void {
    if (!this.closed) {
      closeSync(this.fd);
      this.closed = true;
    }
    rmSync(this.tempPath, { force: true });
    pendingTemps.delete(this.tempPath);
  }
}

/** Writes a whole buffer atomically. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const f = new AtomicFile(path);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data) : data);
    f.commit();
  } catch (err) {
    f.abort();
    throw err;
  }
}
