/** Flag value parsers shared by commands: they fail with an OptionError that names the flag. */
import { extname } from 'node:path';
import { OptionError } from '../src/errors.js';
import { KNOWN_PROVIDERS } from '../src/runtime/providers.js';
import type { ExecutionProvider } from '../src/runtime/types.js';

export function positiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new OptionError(`${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new OptionError(`${flag} must be a positive number, got '${value}'`);
    return n;
  };
}

/** '--ep cpu,cuda' -> ['cpu', 'cuda'], each checked against the providers onnxruntime-node knows. */
export function providerList(value: string): ExecutionProvider[] {
  const list = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (!list.length) throw new OptionError('--ep needs at least one execution provider (e.g. --ep cpu,cuda)');
  for (const p of list) {
    if (!KNOWN_PROVIDERS.includes(p as ExecutionProvider)) throw new OptionError(`--ep: unknown execution provider '${p}' (known: ${KNOWN_PROVIDERS.join(', ')})`);
  }
  return list as ExecutionProvider[];
}

export type ReportFormat = 'html' | 'md' | 'json' | 'txt';

/** The report format from the file extension, checked before any work starts. */
export function reportFormat(path: string): ReportFormat {
  const ext = extname(path).toLowerCase();
  const format = ({ '.html': 'html', '.htm': 'html', '.md': 'md', '.markdown': 'md', '.json': 'json', '.txt': 'txt' } as const)[ext];
  if (!format) throw new OptionError(`--report ${path}: unknown report type '${ext || '(no extension)'}'; use .html, .md, .json or .txt`);
  return format;
}
