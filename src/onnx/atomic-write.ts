/**
 * Writes files through a temporary name in the same directory and renames them into place, so an
 * interrupted run (error, Ctrl-C) never leaves a half-written output. Several files can be staged
 * and committed together (a model and its plan): all of them appear, or none. A failed write is an
 * OutputError naming the file and the reason, with the temporary file removed.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { OutputError } from '../errors.js';

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

const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EFBIG: 'the file is too large for this file system',
  EIO: 'an I/O error',
  EXDEV: 'the temporary file is on another file system',
};

/** The OutputError for a failed write of `path`; errors without an errno code are not I/O errors. */
export function outputError(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code || err instanceof OutputError) return err;
  return new OutputError(`${path}: cannot write (${REASONS[code] ?? code}); nothing was written there`);
}

/** Something written to a temporary file, to be renamed into place or removed. */
export interface Staged {
  commit(): void;
  abort(): void;
}

/** An open temporary file that becomes `finalPath` on commit() and disappears on abort(). */
export class AtomicFile implements Staged {
  readonly tempPath: string;
  private fd: number;
  private position = 0;
  private closed = false;

  constructor(readonly finalPath: string) {
    installExitHook();
    this.tempPath = tempPathFor(finalPath);
    try {
      this.fd = openSync(this.tempPath, 'wx');
    } catch (err) {
      throw outputError(finalPath, err);
    }
    pendingTemps.add(this.tempPath);
  }

  get size(): number {
    return this.position;
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    try {
      while (done < bytes.length) {
        done += writeSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 30), this.position + done);
      }
    } catch (err) {
      throw outputError(this.finalPath, err);
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
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
    } catch (err) {
      throw outputError(this.finalPath, err);
    }
    this.closed = true;
  }

  commit(): void {
    this.close();
    try {
      renameSync(this.tempPath, this.finalPath);
    } catch (err) {
      throw outputError(this.finalPath, err);
    }
    pendingTemps.delete(this.tempPath);
  }

  abort(): void {
    if (!this.closed) {
      try { closeSync(this.fd); } catch { /* already failing: the removal below matters */ }
      this.closed = true;
    }
    rmSync(this.tempPath, { force: true });
    pendingTemps.delete(this.tempPath);
  }
}

/** Writes a whole buffer to a temporary file, ready to commit. */
export function stageFile(path: string, data: Uint8Array | string): AtomicFile {
  const f = new AtomicFile(path);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data) : data);
    f.close();
  } catch (err) {
    f.abort();
    throw err;
  }
  return f;
}

/**
 * Commits staged outputs together. Every one of them is fully written and flushed before the
 * first rename; if a rename still fails, the outputs not yet renamed are removed and the error
 * names the file.
 */
export function commitAll(staged: Staged[]): void {
  let i = 0;
  try {
    for (; i < staged.length; i++) staged[i]!.commit();
  } catch (err) {
    for (const s of staged.slice(i)) s.abort();
    throw err;
  }
}

/** Aborts staged outputs (the work failed after some were written). */
export function abortAll(staged: Staged[]): void {
  for (const s of staged) s.abort();
}

/**
 * Writes `files` (path, text) with what is already staged (a model): all in full first, then
 * renamed together; on any failure none of them remains.
 */
export function commitWith(staged: Staged[], files: readonly (readonly [string, string])[]): void {
  const all = [...staged];
  try {
    for (const [path, text] of files) all.push(stageFile(path, text));
    commitAll(all);
  } catch (err) {
    abortAll(all);
    throw err;
  }
}

/** Writes a whole buffer atomically. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  stageFile(path, data).commit();
}
