/**
 * CLI output helpers: one place decides what goes to stdout (results) and stderr (notes, errors),
 * and how much of it: --quiet keeps only errors (and the files and --json a command was asked
 * for), --verbose adds detail and progress as plain lines where stderr is not a terminal.
 */
import { Command } from 'commander';
import { OptionError } from '../src/errors.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

let level: Verbosity = 'normal';

export function verbosity(): Verbosity {
  return level;
}

export const QUIET_HELP = 'print only errors (output files, --report and --json are still written)';
export const VERBOSE_HELP = 'progress as plain lines on stderr, also when it is not a terminal';

/** Reads --quiet/--verbose of the command an action runs for (the last argument commander passes). */
export function setVerbosityFrom(args: unknown[]): void {
  const command = args[args.length - 1];
  if (!(command instanceof Command)) return;
  const o = command.opts() as { quiet?: boolean; verbose?: boolean };
  if (o.quiet && o.verbose) throw new OptionError('--quiet and --verbose contradict each other: give one');
  level = o.quiet ? 'quiet' : o.verbose ? 'verbose' : 'normal';
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A result in text (a report, a summary): not with --quiet. */
export function print(text: string): void {
  if (level === 'quiet') return;
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A note on stderr (where a file went, a replay's differences): not with --quiet. */
export function note(text: string): void {
  if (level === 'quiet') return;
  process.stderr.write(`${text}\n`);
}
