/**
 * Evaluation data for the CLI. Until the calibration work's `openDataset` (all formats) lands, this
 * reads .npz files through NpzDataset, the one npz loader.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { NpzDataset } from '../src/calibrate/data/npz-dataset.js';
import { NpzFile } from '../src/calibrate/data/npz.js';
import { DataError } from '../src/errors.js';

export function openEvalData(path: string, labelsKey?: string): NpzDataset {
  if (!existsSync(path)) throw new DataError(`--data ${path}: no such file`);
  if (extname(path).toLowerCase() !== '.npz') throw new DataError(`--data ${path}: evaluation data must be an .npz file whose arrays are named after the model inputs (plus optional labels)`);
  if (labelsKey) {
    const names = NpzFile.open(path).names;
    if (!names.includes(labelsKey)) throw new DataError(`--labels ${labelsKey}: ${path} has no array named '${labelsKey}' (it has: ${names.join(', ')})`);
  }
  return new NpzDataset(path, labelsKey ? { labelsKey } : {});
}
