#!/usr/bin/env node
/** Entry point of the `slimnet` command. */
import { runCli } from './program.js';
import { reportError } from './run-command.js';
import { installInterruptHandler } from './interrupt.js';
import { isInterrupted } from '../src/runtime/interrupt.js';
import { canPrompt } from './commands/wizard.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  installInterruptHandler();
  // No arguments: the wizard on a terminal, the help everywhere else (pipes, CI).
  const code = await runCli(argv.length ? argv : canPrompt() ? ['wizard'] : ['--help']);
  if (!isInterrupted()) process.exitCode = code;
}

main().catch((err) => {
  const code = reportError(err);
  if (!isInterrupted()) process.exitCode = code;
});
