/**
 * Wraps a command action: SlimnetErrors become one line on stderr and their exit code; anything
 * else is an internal error (exit 70) with the stack only when SLIMNET_DEBUG is set.
 */
import { SlimnetError } from '../src/errors.js';
import { isInterrupted } from '../src/runtime/interrupt.js';
import { setVerbosityFrom } from './output.js';

export const EXIT_INTERNAL = 70;
export const EXIT_INTERRUPTED = 130;

export function reportError(err: unknown): number {
  // After Ctrl-C every failure is a consequence of the interrupt, which has been reported already.
  if (isInterrupted()) return EXIT_INTERRUPTED;
  if (err instanceof SlimnetError) {
    process.stderr.write(`slimnet: ${err.message}\n`);
    if (process.env.SLIMNET_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`slimnet: internal error: ${msg}\n`);
  if (process.env.SLIMNET_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(set SLIMNET_DEBUG=1 for details, and please report it)\n');
  return EXIT_INTERNAL;
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      setVerbosityFrom(args);
      code = (await fn(...args)) ?? 0;
    } catch (err) {
      code = reportError(err);
    }
    if (!isInterrupted()) process.exitCode = code;
  };
}
