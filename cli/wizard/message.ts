/** An error as the one line the wizard shows (the CLI's wording, without the "slimnet:" prefix). */
import { SlimnetError } from '../../src/errors.js';

export function message(err: unknown): string {
  if (err instanceof SlimnetError) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `internal error: ${text.split('\n')[0]}`;
}
