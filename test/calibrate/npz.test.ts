import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { parseNpy, encodeNpy } from '../../src/calibrate/data/npy.js';
import { DataError } from '../../src/errors.js';
import { FIXTURES } from '../helpers.js';

describe('npz data', () => {
  it('reads the committed Fashion-MNIST test set (written by numpy.savez_compressed)', async () => {
    const ds = new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz'));
    expect(ds.size).toBe(2000);
    expect(ds.inputNames).toEqual(['input']);
    expect(ds.hasLabels).toBe(true);
    expect(ds.sampleInfo.input).toEqual({ type: 'float32', dims: [1, 28, 28] });
    let n = 0;
    let labelSum = 0n;
    for await (const b of ds.batches(300)) {
      expect(b.feeds.input!.dims).toEqual([b.count, 1, 28, 28]);
      n += b.count;
      for (const v of b.labels!.data as BigInt64Array) labelSum += v;
    }
    expect(n).toBe(2000);
    expect(Number(labelSum) / 2000).toBeGreaterThan(3.5); // ten balanced-ish classes 0..9
    expect(Number(labelSum) / 2000).toBeLessThan(5.5);
  });

  it('round-trips arrays through our own npz writer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-npz-'));
    const path = join(dir, 'a.npz');
    writeFileSync(path, encodeNpz({ x: { type: 'float32', dims: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) }, labels: { type: 'int64', dims: [3], data: BigInt64Array.of(0n, 1n, 2n) } }));
    const ds = new NpzDataset(path);
    expect(ds.size).toBe(3);
    expect(Array.from(ds.array('x').data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const t = parseNpy(encodeNpy({ type: 'uint8', dims: [2], data: Uint8Array.of(7, 9) }), 'mem');
    expect(Array.from(t.data as Uint8Array)).toEqual([7, 9]);
  });

  it('explains bad files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-npz-'));
    const junk = join(dir, 'junk.npz');
    writeFileSync(junk, 'not a zip');
    expect(() => new NpzDataset(junk)).toThrow(DataError);
    expect(() => new NpzDataset(junk)).toThrow(/junk.npz: not a .npz file/);
    const mismatch = join(dir, 'mismatch.npz');
    writeFileSync(mismatch, encodeNpz({ x: { type: 'float32', dims: [3], data: new Float32Array(3) }, labels: { type: 'int64', dims: [2], data: new BigInt64Array(2) } }));
    expect(() => new NpzDataset(mismatch)).toThrow(/disagree on the number of samples \(x: 3, labels: 2\)/);
    expect(() => new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz'), { inputs: ['pixel_values'] })).toThrow(/no array matches the model inputs \(pixel_values\); it has: input, labels/);
  });
});
