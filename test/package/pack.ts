/**
 * Packs slimnet as `npm pack` does (its `prepare` script builds dist/) from a copy of the project,
 * so the test never writes into the checkout, and installs the tarball into an empty project
 * offline: the dependencies come from npm's cache, which `npm ci` filled. A lock file derived from
 * slimnet's own pins every dependency to the version and integrity the checkout was tested with.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

/** What `npm pack` needs from the checkout: the package, the build inputs and the packed files. */
const PROJECT_FILES = ['package.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'cli', 'bin', 'scripts/build.mjs'];

/** The environment of a child npm: without the npm_* variables of the `npm test` running us (local prefix, lifecycle). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())) env[k] = v;
  return { ...env, ...extra };
}

export function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: childEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
}

/** Why the packed-tarball test cannot run here, or undefined when npm works. */
export function npmUnavailable(): string | undefined {
  const r = spawnSync('npm', ['--version'], { encoding: 'utf8', env: childEnv() });
  if (r.error || r.status !== 0) return `npm is not available (${r.error?.message ?? r.stderr.trim()})`;
  return undefined;
}

function check(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error || r.status !== 0) throw new Error(`${what} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

export interface Packed {
  tarball: string;
  /** Paths inside the tarball (without the leading package/). */
  files: string[];
}

/** `npm pack` of a copy of the checkout into `dir`. */
export function packProject(dir: string): Packed {
  const project = join(dir, 'project');
  mkdirSync(join(project, 'scripts'), { recursive: true });
  for (const f of PROJECT_FILES) cpSync(join(ROOT, f), join(project, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
  const out = check(run('npm', ['pack', '--json', '--pack-destination', dir], project), 'npm pack');
  const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info[0]!.filename), files: info[0]!.files.map((f) => f.path) };
}

interface LockEntry {
  version?: string;
  resolved?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  [key: string]: unknown;
}

/** The lock of an app depending only on the tarball: slimnet's production dependencies, as slimnet's lock pins them. */
export function appLock(tarballSpec: string): object {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const registry = (spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', env: childEnv() }).stdout.trim() || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { slimnet: tarballSpec } },
    'node_modules/slimnet': { version: pkg.version, resolved: tarballSpec, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    const e: LockEntry = { ...entry };
    if (e.devOptional) {
      delete e.devOptional;
      e.optional = true;
    }
    // Without `resolved`, npm would ask the registry where the tarball is, which offline it cannot.
    if (!e.resolved) {
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      e.resolved = `${registry}${name}/-/${name.split('/').pop()}-${e.version}.tgz`;
    }
    packages[path] = e;
  }
  return { name: 'app', lockfileVersion: 3, requires: true, packages };
}

/** An empty ESM project in `dir` with the tarball installed offline. */
export function installApp(dir: string, tarball: string): void {
  mkdirSync(dir, { recursive: true });
  const spec = `file:${tarball}`;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { slimnet: spec } }, null, 2)}\n`);
  // As slimnet's README asks: onnxruntime-node's CPU binaries are in its package; no CUDA download.
  writeFileSync(join(dir, '.npmrc'), 'onnxruntime-node-install=skip\n');
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(appLock(spec), null, 2)}\n`);
  check(run('npm', ['install', '--offline', '--no-audit', '--no-fund'], dir), 'npm install --offline of the tarball');
}
