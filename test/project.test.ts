/** Project invariants: committed fixtures match their scripts, version in step, boundaries kept. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSyntheticFixtures } from '../fixtures/synthetic/build.js';
import { VERSION } from '../src/version.js';
import { ROOT, SYNTHETIC } from './helpers.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') || e.name.endsWith('.tsx') ? [join(dir, e.name)] : []);
}

describe('project', () => {
  it('committed synthetic fixtures are exactly what fixtures/synthetic builds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-fixtures-'));
    for (const path of buildSyntheticFixtures(dir)) {
      const name = path.split('/').pop()!;
      expect(Buffer.compare(readFileSync(path), readFileSync(join(SYNTHETIC, name))), `${name} is stale: run npm run fixtures:synthetic`).toBe(0);
    }
  });

  it('VERSION matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('only src/onnx speaks protobuf and only src/runtime imports onnxruntime-node; src never imports UI code', () => {
    for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'cli'))]) {
      const rel = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      if (/from 'protobufjs'/.test(text)) expect(rel, rel).toMatch(/^src\/onnx\//);
      if (/from 'onnxruntime-node'/.test(text)) expect(rel, rel).toMatch(/^src\/runtime\//);
      if (rel.startsWith('src/')) expect(text, rel).not.toMatch(/from '(ink|react)'/);
    }
  });
});
