/**
 * Output paths, checked before any work: a command that would fail to write its result after
 * minutes of calibration says so at once. Each output must be a file name (not a directory, not a
 * device) in an existing directory where a file can be created, distinct from the command's other
 * outputs, and not one of its inputs (the model, its external data, the data) unless --force says
 * to replace it. The checks create and remove a probe file, so /proc, read-only mounts and
 * permissions are found out the way the real write would.
 */
import { closeSync, existsSync, openSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OptionError } from '../src/errors.js';
import { tempPathFor } from '../src/onnx/atomic-write.js';
import { lockPathFor } from '../src/recipe/lock.js';

export interface OutputPath {
  /** The flag that names it, for messages ('-o', '--plan-out', '--report'). */
  flag: string;
  path: string;
}

export interface InputPath {
  /** What it is, for messages ('the model', 'the calibration data'). */
  what: string;
  path: string;
  /** --force may replace it (only `quantize -o` over its input model: an in-place conversion). */
  replaceable?: boolean;
}

/** Real path of an existing file, else the resolved path (links followed where they exist). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return resolve(realpathSync(dirname(abs)), abs.slice(dirname(abs).length + 1));
    } catch {
      return abs;
    }
  }
}

function checkWritable(o: OutputPath): void {
  const abs = resolve(o.path);
  const dir = dirname(abs);
  const name = `${o.flag} ${o.path}`;
  if (!o.path.trim()) throw new OptionError(`${o.flag} needs a file name`);
  if (existsSync(abs)) {
    const st = statSync(abs);
    if (st.isDirectory()) throw new OptionError(`${name}: is a directory; give a file name inside it`);
    // Renaming over a device or a FIFO would replace it (as root, /dev/null itself).
    if (!st.isFile()) throw new OptionError(`${name}: exists and is not a regular file; slimnet replaces only regular files`);
  }
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new OptionError(`${name}: the directory ${dir} does not exist; create it first`);
  }
  if (!dirStat.isDirectory()) throw new OptionError(`${name}: ${dir} is not a directory`);
  const probe = tempPathFor(abs);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new OptionError(`${name}: cannot create files in ${dir} (${code}); choose another directory`);
  }
  rmSync(probe, { force: true });
}

/**
 * Checks outputs before any work (see above). `force` allows an output to replace a `replaceable`
 * input; an output equal to another output is never allowed.
 */
export function checkOutputs(outputs: OutputPath[], inputs: InputPath[], options: { force?: boolean } = {}): void {
  const seen = new Map<string, OutputPath>();
  const inputPaths = inputs.map((i) => ({ ...i, real: canonical(i.path) }));
  for (const o of outputs) {
    checkWritable(o);
    const real = canonical(o.path);
    const twin = seen.get(real);
    if (twin) throw new OptionError(`${o.flag} ${o.path}: the same file as ${twin.flag}; give each output its own name`);
    seen.set(real, o);
    const input = inputPaths.find((i) => i.real === real);
    if (input && !(options.force && input.replaceable)) {
      const way = input.replaceable ? 'give another name, or add --force to replace it' : 'give another name';
      throw new OptionError(`${o.flag} ${o.path}: is ${input.what}; writing there would replace it: ${way}`);
    }
  }
}

/** A recipe read as input, and the lock beside it that its replay reads too: neither may be written over. */
export function recipeInputs(path: string, what = 'the recipe (--recipe)'): InputPath[] {
  return [{ what, path }, { what: `the lock of ${what}`, path: lockPathFor(path) }];
}
