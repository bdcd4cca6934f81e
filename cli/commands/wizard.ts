/**
 * `slimnet wizard [model]` (and `slimnet` alone on a terminal): the interactive face. It never
 * prompts when stdin or stdout is not a terminal or CI is set; Ink and React load only here.
 */
import type { Command } from 'commander';
import { OptionError } from '../../src/errors.js';
import { action } from '../run-command.js';

/** CI as Ink reads it: set, and not '0' or 'false'. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['CI', 'CONTINUOUS_INTEGRATION'].some((k) => env[k] !== undefined && env[k] !== '0' && env[k] !== 'false');
}

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !inCi();
}

export function registerWizard(program: Command): void {
  program
    .command('wizard')
    .description('interactive: pick a model, a goal and data, review the settings, run, and get the equivalent command (the default on a terminal)')
    .argument('[model]', 'ONNX model to start with')
    .action(action(async (model: string | undefined) => {
      if (!canPrompt()) {
        throw new OptionError(`the wizard needs an interactive terminal (${inCi() ? 'CI is set' : 'stdin or stdout is not a TTY'}); run the commands instead: slimnet --help`);
      }
      const { startWizard } = await import('../wizard/run.js');
      return startWizard(model ? { model } : {});
    }));
}
