/**
 * Reading calibration and evaluation data files whole, within bounds. Data files are untrusted
 * and read into memory: a FIFO or a device would block or never end, and a file (or what it
 * inflates to) larger than memory would take the machine down before any check runs. Every
 * reader goes through here: regular files only, and no more than the data limit.
 */
import { readFileSync, statSync } from 'node:fs';
import { DataError } from '../../errors.js';

const MB = 1024 * 1024;
export const DEFAULT_DATA_LIMIT_MB = 1024;

/**
 * Most bytes slimnet reads into memory for one data file or one array of it (decompressed):
 * SLIMNET_DATA_LIMIT_MB, default 1024. Larger data sets belong in a directory of one file per
 * sample, which is read batch by batch.
 */
export function dataLimitBytes(): number {
  const env = process.env.SLIMNET_DATA_LIMIT_MB;
  const mb = env === undefined || env === '' ? DEFAULT_DATA_LIMIT_MB : Number(env);
  if (!Number.isFinite(mb) || mb <= 0) throw new DataError(`SLIMNET_DATA_LIMIT_MB must be a positive number of megabytes, got '${env}'`);
  return mb * MB;
}

/** JSON costs far more memory parsed than on disk (a JS number per value): a sixteenth of the limit. */
export function jsonLimitBytes(): number {
  return dataLimitBytes() / 16;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  return `${bytes} bytes`;
}

/** Fails, naming the file and the way out, when `bytes` of `what` exceed `limit`. */
export function checkDataSize(source: string, what: string, bytes: number, limit = dataLimitBytes()): void {
  if (bytes <= limit) return;
  throw new DataError(
    `${source}: ${what} is ${formatBytes(bytes)}, over slimnet's ${formatBytes(limit)} limit for data read into memory; ` +
      'split it into a directory of one .npz per sample (read batch by batch), or raise SLIMNET_DATA_LIMIT_MB',
  );
}

/** A data file's bytes: a regular file within `limit` bytes. */
export function readDataFile(path: string, limit = dataLimitBytes()): Buffer {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new DataError(`${path}: not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}`);
  }
  checkDataSize(path, 'the file', size, limit);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}
