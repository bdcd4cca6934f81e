/**
 * The CLI as plain JavaScript for the tests that spawn it: src/ and cli/ transpiled once per test
 * run (by esbuild, the transpiler tsx runs the sources through, with the project's tsconfig), beside
 * a copy of bin/slimnet.js. Every spawn then starts with plain node instead of loading tsx's hooks
 * (about half a second a process, two hundred processes a run).
 *
 * The copy lives under the clone (.slimnet-test-cli/, ignored by git), never in dist/: the package
 * test's npm pack rebuilds dist/ while other tests run. Being under the clone, its imports resolve
 * the clone's node_modules as the sources' do, and its source maps point at the .ts files.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

/** Where runs keep their copies; one directory per vitest process, removed when it ends. */
export const TEST_CLI_DIR = '.slimnet-test-cli';

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>;
}

/** The esbuild tsx itself uses (a pinned dependency of the pinned tsx), so nothing new is installed. */
function esbuildOf(root: string): Esbuild {
  const fromRoot = createRequire(join(root, 'package.json'));
  return createRequire(fromRoot.resolve('tsx/package.json'))('esbuild') as Esbuild;
}

function sources(dir: string, kind = /\.tsx?$/): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name), kind) : kind.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []);
}

/**
 * Builds `out`/dist/{src,cli} and `out`/bin/slimnet.js from the clone at `root`; returns the bin's
 * path. The bin finds no cli/index.ts beside it, so it runs the built dist/ as an installed package does.
 */
export async function buildTestCli(root: string, out: string): Promise<string> {
  rmSync(out, { recursive: true, force: true });
  await esbuildOf(root).build({
    entryPoints: [...sources(join(root, 'src')), ...sources(join(root, 'cli'))],
    outdir: join(out, 'dist'),
    outbase: root,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.json'),
    sourcemap: true,
    logLevel: 'error',
  });
  // Plain JavaScript in src/ (the probe child) is used as it is.
  for (const f of sources(join(root, 'src'), /\.mjs$/)) copyFileSync(f, join(out, 'dist', relative(root, f)));
  mkdirSync(join(out, 'bin'));
  copyFileSync(join(root, 'bin', 'slimnet.js'), join(out, 'bin', 'slimnet.js'));
  // ESM whatever the nearest package.json above says.
  writeFileSync(join(out, 'package.json'), '{ "type": "module", "private": true }\n');
  return join(out, 'bin', 'slimnet.js');
}
