/** Options that list names (--exclude, --op-types): checked before use, for API callers and edited recipes. */
import { OptionError } from '../errors.js';

/** `value` when it is undefined or a list of non-empty strings; an OptionError naming `flag` otherwise. */
export function nameList<T extends string>(value: readonly T[] | undefined, flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  // Typed as a list, but an API caller or an edited recipe may give anything.
  const given: unknown = value;
  if (!Array.isArray(given) || !given.every((x) => typeof x === 'string' && x !== '')) {
    throw new OptionError(`${flag} must be a list of names (got ${JSON.stringify(given) ?? String(given)})`);
  }
  return [...value];
}
