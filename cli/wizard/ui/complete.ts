/** Tab completion of a file path: the longest common prefix of the entries that start with what was typed. */
import { readdirSync, statSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';

export function completePath(typed: string, cwd = process.cwd()): { value: string; matches: string[] } {
  const dirPart = typed.endsWith('/') ? typed : dirname(typed) === '.' && !typed.startsWith('./') ? '' : `${dirname(typed)}/`;
  const stem = typed.endsWith('/') ? '' : basename(typed);
  let entries: string[];
  try {
    entries = readdirSync(resolve(cwd, dirPart || '.')).filter((e) => e.startsWith(stem) && (stem.startsWith('.') || !e.startsWith('.'))).sort();
  } catch {
    return { value: typed, matches: [] };
  }
  if (entries.length === 0) return { value: typed, matches: [] };
  let prefix = entries[0]!;
  for (const e of entries) while (!e.startsWith(prefix)) prefix = prefix.slice(0, -1);
  let value = `${dirPart}${prefix}`;
  if (entries.length === 1) {
    try {
      if (statSync(resolve(cwd, join(dirPart || '.', prefix))).isDirectory()) value += '/';
    } catch { /* a dangling link completes as a name */ }
  }
  return { value, matches: entries.length > 1 ? entries : [] };
}
