#!/usr/bin/env node
/** Entry point of the `slimnet` command. */
import { runCli } from './program.js';
import { reportError } from './run-command.js';
import { Engine } from '../src/runtime/engine.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  process.once('SIGINT', () => {
    process.stderr.write('\nslimnet: interrupted\n');
    // Stop inference workers first; temporary output files are removed on exit (atomic writes).
    void Engine.closeAll().finally(() => process.exit(130));
  });
  process.exitCode = await runCli(argv.length ? argv : ['--help']);
}

main().catch((err) => {
  process.exitCode = reportError(err);
});
