#!/usr/bin/env node
// Runs the compiled CLI when it exists (npm run build), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
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
if (existsSync(compiled) && !process.env.SLIMNET_FROM_SOURCE) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'cli', 'index.ts')).href);
}
