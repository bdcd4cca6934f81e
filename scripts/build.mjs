#!/usr/bin/env node
// Builds dist/ (the compiled API, CLI and wizard with their type declarations) from src/ and cli/.
// Run by `npm run build` and by npm's `prepare` (npm install in a clone, npm pack, git installs),
// so an installed package needs no TypeScript at run time. A clean build: stale files go first.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('slimnet build: typescript is not installed (it is a devDependency): run npm install in the clone first');
  process.exit(1);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
