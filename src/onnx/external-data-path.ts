/**
 * Where an external tensor's bytes may come from: a regular file inside the model's directory,
 * nowhere else. A model is untrusted input; without this, a tensor whose `location` says
 * `../../etc/passwd` (or an absolute path, or a symlink pointing out of the directory) would have
 * slimnet read that file and copy its bytes into every model it writes. ONNX Runtime refuses such
 * models too ("External data path escapes model directory"); slimnet refuses them first, by name.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidModelError } from '../errors.js';

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The absolute path of `location` in `baseDir`, checked without touching the disk: relative, no
 * NUL byte, and not escaping the directory through `..`.
 */
export function externalDataPath(baseDir: string, location: string, tensor: string, source: string): string {
  const where = `${source}: tensor '${tensor}' keeps its data in '${location}'`;
  if (location.includes('\0')) throw new InvalidModelError(`${where}, a location with a NUL byte; re-export the model`);
  // Windows drive letters and UNC paths are absolute too, whatever the platform.
  if (isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location) || location.startsWith('\\\\')) {
    throw new InvalidModelError(`${where}, an absolute path; external data must be a file next to the model, named relative to its directory`);
  }
  const path = resolve(baseDir, location);
  if (!isInside(resolve(baseDir), path)) {
    throw new InvalidModelError(`${where}, which is outside the model's directory; slimnet (like ONNX Runtime) only reads external data from the model's own directory`);
  }
  return path;
}

/**
 * Checks, on disk, that an external data file is a regular file whose real path (symlinks
 * followed) is inside the model's real directory, and returns its size. Nothing is opened.
 */
export function checkExternalDataFile(baseDir: string, path: string, location: string, tensor: string, source: string): number {
  const where = `${source}: external data file '${location}' (tensor '${tensor}')`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InvalidModelError(`${where} is missing; it must sit next to the model, in ${resolve(baseDir)}`);
    throw new InvalidModelError(`${where} cannot be read (${code ?? String(err)})`);
  }
  let root: string;
  try {
    root = realpathSync(baseDir);
  } catch {
    root = resolve(baseDir);
  }
  if (!isInside(root, real)) {
    throw new InvalidModelError(`${where} is a link to ${real}, outside the model's directory; slimnet only reads external data from the model's own directory (copy the file there)`);
  }
  const st = statSync(real);
  if (!st.isFile()) throw new InvalidModelError(`${where} is not a regular file`);
  return st.size;
}
