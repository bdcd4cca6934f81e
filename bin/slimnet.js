#!/usr/bin/env node
// In a clone (cli/index.ts beside this file, tsx installed) runs the TypeScript sources through tsx,
// so an edit is never shadowed by an old build; an installed package has only dist/ and runs that.
// SLIMNET_FROM_DIST=1 runs dist/ in a clone too (npm run build first).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// Ctrl-C while the CLI is still loading: nothing has started, exit 130 at once. cli/interrupt.ts
// replaces this handler with the one that stops inference workers first.
const earlyInterrupt = (signal) => process.exit(signal === 'SIGTERM' ? 143 : 130);
globalThis.__slimnetEarlyInterrupt = earlyInterrupt;
process.on('SIGINT', earlyInterrupt);
process.on('SIGTERM', earlyInterrupt);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'index.js');
const source = join(root, 'cli', 'index.ts');

function tsxAvailable() {
  try {
    createRequire(join(root, 'package.json')).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

const fromSource = existsSync(source) && (process.env.SLIMNET_FROM_SOURCE || (!process.env.SLIMNET_FROM_DIST && tsxAvailable()));
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  // The project's compiler options (JSX for the wizard) whatever the working directory.
  register({ tsconfig: join(root, 'tsconfig.json') });
  await import(pathToFileURL(source).href);
} else if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  process.stderr.write(`slimnet: ${compiled} is missing: run npm run build in ${root}\n`);
  process.exit(70);
}
