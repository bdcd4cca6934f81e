/** The README's API examples: every ```ts block of the section "## The API", in order. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

export function readmeSection(title: string): string {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section '## ${title}'`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

export function apiExamples(): string[] {
  return [...readmeSection('The API').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The one-line commands of the quick start ("Each face in one line"), without the interactive one. */
export function quickStartLines(): string[] {
  const block = readmeSection('Quick start').match(/Each face in one line:\n\n```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md: the quick start has no "Each face in one line" block');
  return block.split('\n').filter((l) => l.trim() && !/^npx slimnet +#/.test(l)).map((l) => l.replace(/\s+#.*$/, ''));
}
