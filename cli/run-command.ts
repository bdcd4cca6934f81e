/**
 * Wraps a command action: SlimnetErrors become one line on stderr and their exit code; anything
 * else is an internal error (exit 70) with the stack only when SLIMNET_DEBUG is set.
 */
import { SlimnetError } from '../src/errors.js';

export const EXIT_INTERNAL = 70;

export function reportError(err: unknown): number {
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
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
