/** `slimnet wizard` and `slimnet` alone: never a prompt without a terminal or with CI set; Ink loads only for the wizard. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, slimnet } from '../helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('slimnet wizard outside a terminal', () => {
  it('refuses with one line and exit 2 when stdin/stdout are not a terminal', () => {
    // CI runners set CI; say "not CI" so this checks the TTY rule alone.
    const r = slimnet(['wizard'], { CI: 'false', CONTINUOUS_INTEGRATION: 'false' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^slimnet: the wizard needs an interactive terminal \(stdin or stdout is not a TTY\); run the commands instead: slimnet --help$/);
  });

  it('names CI when CI is set', () => {
    const r = slimnet(['wizard'], { CI: 'true' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CI is set/);
  });

  it('prints the help when run with no arguments in a pipe', () => {
    const r = slimnet([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: slimnet/);
    expect(r.stdout).toMatch(/^  wizard \[model\] +interactive/m);
  });

  it('loads Ink and React only through the dynamic import of the wizard', () => {
    for (const file of files(join(ROOT, 'cli'))) {
      const rel = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      if (rel.startsWith('cli/wizard/')) continue;
      expect(text, rel).not.toMatch(/from '(ink|react)'/);
      expect(text, rel).not.toMatch(/from '\.\.?\/(\.\.\/)*wizard\//);
    }
    expect(readFileSync(join(ROOT, 'cli', 'commands', 'wizard.ts'), 'utf8')).toMatch(/await import\('\.\.\/wizard\/run\.js'\)/);
  });
});
