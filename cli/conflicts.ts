/**
 * Flag combinations that contradict each other or do nothing, refused before any work: a user who
 * writes `--calib data.npz --ranges ranges.json` or `--percentile 99` without `--method
 * percentile` means something the command would silently not do. Each command lists its rules;
 * a rule fires when all its flags were typed on the command line (defaults do not count) and its
 * condition, if any, holds.
 */
import type { Command } from 'commander';
import { OptionError } from '../src/errors.js';

export interface FlagRule {
  /** Commander attribute names ('calibSize' for --calib-size, 'speed' for --no-speed). */
  given: string[];
  /** A further condition on the parsed option values. */
  when?: (options: Record<string, unknown>) => boolean;
  message: string;
}

/** Whether the user typed the flag (not a default, not an environment variable). */
export function typed(command: Command, key: string): boolean {
  return command.getOptionValueSource(key) === 'cli';
}

export function refuseConflicts(command: Command, rules: readonly FlagRule[]): void {
  const options = command.opts();
  for (const rule of rules) {
    if (rule.given.every((key) => typed(command, key)) && (!rule.when || rule.when(options))) throw new OptionError(rule.message);
  }
}
