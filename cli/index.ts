#!/usr/bin/env node
/** Entry point of the `slimnet` command. */
import { runCli } from './program.js';
import { reportError } from './run-command.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  process.on('SIGINT', () => {
    process.stderr.write('\nslimnet: interrupted\n');
    process.exit(130);
  });
  process.exitCode = await runCli(argv.length ? argv : ['--help']);
}

main().catch((err) => {
  process.exitCode = reportError(err);
});
