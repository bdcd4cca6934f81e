/** Reading recipes and locks (no runtime): both schema versions, errors naming the key, lock paths and data hashes. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecipe, onlyStep } from '../../src/recipe/recipe.js';
import { dataSha256, lockPathFor, readLock } from '../../src/recipe/lock.js';
import { replayStep } from '../../src/recipe/replay.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-recipe-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STATIC = { mode: 'static', options: { target: 'x86-vnni' }, ranges: { x: [0, 1] }, decisions: { placement: 'full', keepFloat: {}, weights: {} } };
const PLAN = { schema: 'slimnet.prune-plan/1', model: 'abc', method: 'magnitude', scope: 'global', sparsity: 0.5, layers: [{ node: 'conv', op: 'Conv', weight: 'w', params: 8, sparsity: 0.25, method: 'magnitude' }], skipped: [] };

function write(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

function error(doc: unknown): string {
  try {
    readRecipe(write('bad.json', doc));
  } catch (err) {
    return (err as Error).message.replace(`${join(dir, 'bad.json')}`, 'R');
  }
  throw new Error('no error');
}

describe('recipe files', () => {
  it('reads slimnet.recipe/1 (static, lock inside) and /2 (any step, lock beside it)', () => {
    const lock = { slimnet: '0.1.0', onnxruntimeNode: '1.30.0', modelSha256: 'abc', cpu: 'x', int8Flags: [], target: 'x86-vnni', host: 'x86-vnni', createdAt: '' };
    const v1 = write('v1.json', { schema: 'slimnet.recipe/1', steps: [{ quantize: STATIC }], lock });
    expect(readLock(v1, readRecipe(v1).lock)).toEqual(lock);
    const v2 = write('v2.json', { schema: 'slimnet.recipe/2', steps: [{ prune: { options: { method: 'magnitude', scope: 'global', sparsity: 0.5 }, plan: PLAN, data: { calibration: 'data/c.npz' } } }] });
    const r = readRecipe(v2);
    expect(readLock(v2)).toBeUndefined();
    expect(() => onlyStep(r, v2, 'quantize')).toThrow(/is a prune recipe: replay it with slimnet prune --recipe/);
    // Data is named relative to the recipe; --calib replaces it.
    expect(replayStep(v2, r, r.steps[0]!, undefined).data).toEqual({ calibration: join(dir, 'data', 'c.npz') });
    expect(replayStep(v2, r, r.steps[0]!, undefined, { calibration: '/x.npz' }).options).toMatchObject({ calibration: '/x.npz', plan: PLAN });
    expect(() => replayStep(v2, r, r.steps[0]!, undefined, { locked: true })).toThrow(/--locked: no lock file next to \S+v2\.json \(\S+v2\.lock\.json\)/);
  });

  it('refuses an edited lock file with the field at fault', () => {
    const recipe = write('locked.json', { schema: 'slimnet.recipe/2', steps: [{ quantize: STATIC }] });
    for (const [lock, field] of [[{}, 'modelSha256 must be a string'], [{ modelSha256: 5 }, 'modelSha256 must be a string'], [{ modelSha256: 'a', slimnet: '1', onnxruntimeNode: '1', data: { calibration: { path: 'c.npz' } } }, 'data.calibration must be \\{path, sha256\\}']] as const) {
      write('locked.lock.json', lock);
      expect(() => readLock(recipe)).toThrow(new RegExp(`locked\\.lock\\.json: ${field}; delete the lock or save the recipe again`));
    }
  });

  it('names the key at fault', () => {
    expect(error({ schema: 'slimnet.recipe/3', steps: [] })).toBe("--recipe R: schema must be 'slimnet.recipe/2' (or 'slimnet.recipe/1'; got \"slimnet.recipe/3\")");
    expect(error({ schema: 'slimnet.recipe/1', steps: [{ quantize: { ...STATIC, mode: 'dynamic', options: {} } }] })).toBe('--recipe R: steps of a slimnet.recipe/1 recipe must hold one static quantize step');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ quantize: { mode: 'dynamic', options: { blockSize: 32 } } }] })).toMatch(/^--recipe R: steps\[0\]\.quantize\.options\.blockSize is not an option a dynamic recipe keeps \(perChannel, /);
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ quantize: { mode: 'fp16', options: {}, decisions: { beyondFp16: { t: 'big' } } } }] })).toBe('--recipe R: steps[0].quantize.decisions.beyondFp16.t must be a number (got "big")');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ prune: { options: {}, plan: { ...PLAN, layers: [{ node: 'c', sparsity: 1.5 }] } } }] })).toBe('--recipe R: steps[0].prune.plan.layers[0] must name a node and a sparsity in [0, 1)');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ prune: { options: {}, plan: { ...PLAN, groups: [{ id: 0, units: 4, drop: [4] }] } } }] })).toBe('--recipe R: steps[0].prune.plan.groups[0] must give id, units and drop (unit indices below units)');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ prune: { options: {}, plan: PLAN, data: { eval: 'x' } } }] })).toBe('--recipe R: steps[0].prune.data.eval is not data a recipe reads (calibration)');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ quantize: { ...STATIC, ranges: { x: [2, -1] } } }] })).toBe('--recipe R: steps[0].quantize.ranges.x must be [min, max] with min <= max (got [2,-1])');
    expect(error({ schema: 'slimnet.recipe/2', steps: [{ distill: {} }] })).toBe('--recipe R: steps[0] must be { quantize: ... } or { prune: ... }');
  });

  it('puts the lock beside the recipe and hashes data files and directories', () => {
    expect(lockPathFor('a/r.json')).toBe('a/r.lock.json');
    expect(lockPathFor('a/r.recipe')).toBe('a/r.recipe.lock.json');
    const images = join(dir, 'images');
    mkdirSync(join(images, 'cat'), { recursive: true });
    writeFileSync(join(images, 'cat', '1.png'), 'one');
    const before = dataSha256(images);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(images, 'cat', '2.png'), 'two');
    expect(dataSha256(images)).not.toBe(before);
    expect(dataSha256(join(images, 'cat', '1.png'))).toBe('7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
  });
});
