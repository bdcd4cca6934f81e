/**
 * The lock written next to a recipe (`r.json` -> `r.lock.json`, schema slimnet.lock/1): what the
 * result depended on, so a replay can say what differs. slimnet and ONNX Runtime versions, the
 * execution provider, the CPU and its int8 features, the model's hash, the hash of every data file
 * the run read, the hash of the recipe (which holds every decision) and of the model written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Model } from '../ir/model.js';
import { modelHash } from '../onnx/hash.js';
import { VERSION } from '../version.js';
import { ortVersion } from '../runtime/providers.js';
import { detectHardware } from '../target/hardware.js';
import { classifyFlags } from '../target/host.js';
import { OptionError } from '../errors.js';

export const LOCK_SCHEMA = 'slimnet.lock/1';

export interface DataLock {
  /** As given on the command line (or in the pipeline). */
  path: string;
  /** sha256 of the file's bytes (a directory: of every file's relative name and bytes, sorted). */
  sha256: string;
}

export interface RecipeLock {
  schema?: typeof LOCK_SCHEMA;
  slimnet: string;
  onnxruntimeNode: string;
  /** ONNX Runtime execution provider the searches and statistics ran on. */
  executionProvider?: string;
  /** Content sha256 of the model the recipe was made from (src/onnx/hash.ts). */
  modelSha256: string;
  /** Data the run read, by role (calibration, evalData). */
  data?: Record<string, DataLock>;
  cpu: string;
  int8Flags: string[];
  /** The target the model was written for, and the host's own. */
  target: string;
  host: string;
  /** sha256 of the recipe file: its steps hold every decision. */
  recipeSha256?: string;
  /** Content sha256 of the model the run wrote: a replay that matches it is byte-identical in content. */
  outputSha256?: string;
  createdAt: string;
}

/** `dir/r.json` -> `dir/r.lock.json`. */
export function lockPathFor(recipePath: string): string {
  return recipePath.endsWith('.json') ? `${recipePath.slice(0, -5)}.lock.json` : `${recipePath}.lock.json`;
}

/** sha256 of a data file, or of a directory's files (relative names and bytes, sorted by name). */
export function dataSha256(path: string): string {
  const h = createHash('sha256');
  if (!statSync(path).isDirectory()) return h.update(readFileSync(path)).digest('hex');
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
  for (const f of walk(path).sort()) h.update(`${relative(path, f)}\n`).update(readFileSync(f));
  return h.digest('hex');
}

export interface LockInput {
  model: Model;
  output: Model;
  recipeText: string;
  /** Data files read, by role; non-path sources (in-memory datasets) are left out. */
  data?: Record<string, unknown>;
  target?: string;
  host?: string;
}

export function makeLock(i: LockInput): RecipeLock {
  const hw = detectHardware();
  const data: Record<string, DataLock> = {};
  for (const [role, path] of Object.entries(i.data ?? {})) if (typeof path === 'string') data[role] = { path, sha256: dataSha256(path) };
  return {
    schema: LOCK_SCHEMA, slimnet: VERSION, onnxruntimeNode: ortVersion(), executionProvider: 'CPUExecutionProvider',
    modelSha256: modelHash(i.model), data, cpu: hw.cpuModel, int8Flags: hw.int8Flags,
    target: i.target ?? 'host', host: i.host ?? classifyFlags(hw) ?? hw.arch,
    recipeSha256: createHash('sha256').update(i.recipeText).digest('hex'), outputSha256: modelHash(i.output), createdAt: new Date().toISOString(),
  };
}

/** The lock of a recipe: the file next to it, or (slimnet.recipe/1) the one inside; undefined when neither exists. */
export function readLock(recipePath: string, embedded?: RecipeLock): RecipeLock | undefined {
  const path = lockPathFor(recipePath);
  if (!existsSync(path)) return embedded === undefined ? undefined : checkLock(embedded, `${recipePath}: lock`);
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OptionError(`${path}: not a readable lock file (${(err as Error).message.split('\n')[0]}); delete it or save the recipe again`);
  }
  return checkLock(lock, path);
}

/** The fields a replay compares, checked: an edited lock is one clear error, not a TypeError. */
function checkLock(lock: unknown, where: string): RecipeLock {
  const bad = (field: string, want: string) => new OptionError(`${where}: ${field} must be ${want}; delete the lock or save the recipe again`);
  const l = lock as Record<string, unknown> | null;
  if (typeof l !== 'object' || l === null || Array.isArray(l)) throw bad('the lock', 'an object');
  for (const key of ['modelSha256', 'slimnet', 'onnxruntimeNode']) if (typeof l[key] !== 'string') throw bad(key, 'a string');
  if (l.data !== undefined) {
    if (typeof l.data !== 'object' || l.data === null) throw bad('data', 'an object of role: {path, sha256}');
    for (const [role, d] of Object.entries(l.data)) {
      const e = d as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || typeof e.sha256 !== 'string') throw bad(`data.${role}`, '{path, sha256}');
    }
  }
  return l as unknown as RecipeLock;
}

/** What differs between the lock and this replay: `hashes` (model or data, which change the result) and `notes` (versions, CPU). */
export function lockDifferences(lock: RecipeLock, model: Model, data: Record<string, unknown> = {}): { hashes: string[]; notes: string[] } {
  const hashes: string[] = [];
  const notes: string[] = [];
  if (lock.modelSha256 !== modelHash(model)) hashes.push(`the model differs from the one the recipe was made from (sha256 ${lock.modelSha256.slice(0, 12)}...): names in the recipe may not match`);
  for (const [role, path] of Object.entries(data)) {
    const locked = lock.data?.[role];
    if (typeof path !== 'string' || !locked) continue;
    const now = dataSha256(path);
    if (now !== locked.sha256) hashes.push(`the ${role} data ${path} differs from ${locked.path} the recipe was made with (sha256 ${locked.sha256.slice(0, 12)}..., now ${now.slice(0, 12)}...)`);
  }
  if (lock.slimnet !== VERSION) notes.push(`made with slimnet ${lock.slimnet}, replayed with ${VERSION}`);
  if (lock.onnxruntimeNode !== ortVersion()) notes.push(`made with onnxruntime-node ${lock.onnxruntimeNode}, replayed with ${ortVersion()}: pre-processing may differ`);
  return { hashes, notes };
}
