/** The scripted CLI: one commander program; each command lives in cli/commands. */
import { Command, CommanderError } from 'commander';
import { registerInspect } from './commands/inspect.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerEval } from './commands/eval.js';
import { registerBench } from './commands/bench.js';
import { registerQuantize } from './commands/quantize.js';
import { registerPrune } from './commands/prune.js';
import { registerWizard } from './commands/wizard.js';
import { registerRun } from './commands/run.js';
import { VERSION } from '../src/version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('slimnet')
    .description('Make trained ONNX models smaller and faster: quantize, prune, calibrate and evaluate on ONNX Runtime.')
    .version(VERSION)
    .showHelpAfterError('(run slimnet --help for usage)')
    .exitOverride();
  registerInspect(program);
  registerCalibrate(program);
  registerEval(program);
  registerBench(program);
  registerQuantize(program);
  registerPrune(program);
  registerRun(program);
  registerWizard(program);
  return program;
}

/** Runs argv; returns the exit code (commander usage errors give 2). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    throw err;
  }
}
