/**
 * Directories of one sample per file: .npy (for single-input models) or .npz (arrays named after
 * the inputs, plus an optional `labels` scalar), and ONNX test-data directories (input_0.pb, ...
 * TensorProto files, one test_data_set_N directory per sample, as the ONNX model zoo ships them).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { TensorData } from '../../runtime/types.js';
import { DataError } from '../../errors.js';
import { fromIrTensor } from '../../runtime/tensor-data.js';
import { decodeTensorFile } from '../../onnx/tensor-file.js';
import { parseNpy } from './npy.js';
import { readDataFile } from './read-file.js';
import { NpzFile } from './npz.js';
import { LABELS_KEY } from './npz-dataset.js';
import { FileDataset, naturalSort, type Sample } from './file-dataset.js';
import type { InputSpec } from './model-inputs.js';

function labelOf(t: TensorData, file: string): number {
  if (Array.isArray(t.data) || t.data.length !== 1) throw new DataError(`${file}: '${LABELS_KEY}' must hold one value per sample file`);
  return Number(t.data[0]);
}

/** Files of a directory with these extensions, in natural order. */
export function listFiles(dir: string, extensions: readonly string[]): string[] {
  return naturalSort(readdirSync(dir).filter((f) => extensions.includes(extname(f).toLowerCase()) && statSync(join(dir, f)).isFile())).map((f) => join(dir, f));
}

export async function openSampleFiles(dir: string, files: string[], inputs: readonly InputSpec[]): Promise<FileDataset> {
  const npy = files.filter((f) => f.toLowerCase().endsWith('.npy'));
  if (npy.length && npy.length !== files.length) throw new DataError(`${dir}: mixes .npy and .npz files; use one kind (.npz with arrays named after the inputs for models with several inputs)`);
  if (npy.length && inputs.length !== 1) {
    throw new DataError(`${dir}: a directory of .npy files can only feed a model with one input; this model has ${inputs.map((i) => i.name).join(', ')}: save one .npz per sample with arrays named after them`);
  }
  const read = async (file: string): Promise<Sample> => {
    if (file.toLowerCase().endsWith('.npy')) return { feeds: { [inputs[0]!.name]: parseNpy(readDataFile(file), file) } };
    const npz = new NpzFile(readDataFile(file), file);
    const sample: Sample = { feeds: {} };
    for (const n of npz.names) {
      if (n === LABELS_KEY) sample.label = labelOf(npz.get(n), file);
      else sample.feeds[n] = npz.get(n);
    }
    return sample;
  };
  return FileDataset.open(dir, files, read);
}

/** An ONNX test-data layout: `dir` holds test_data_set_* directories, or input_*.pb files itself. */
export function isOnnxTestData(dir: string): boolean {
  const entries = readdirSync(dir);
  return entries.some((e) => /^test_data_set_\d+$/.test(e) && statSync(join(dir, e)).isDirectory()) || entries.some((e) => /^input_\d+\.pb$/.test(e));
}

export async function openOnnxTestData(dir: string, inputs: readonly InputSpec[]): Promise<FileDataset> {
  const entries = readdirSync(dir);
  const sets = entries.some((e) => /^input_\d+\.pb$/.test(e)) ? [dir] : naturalSort(entries.filter((e) => /^test_data_set_\d+$/.test(e))).map((e) => join(dir, e));
  const read = async (set: string): Promise<Sample> => {
    const pbs = naturalSort(readdirSync(set).filter((f) => /^input_\d+\.pb$/.test(f)));
    if (pbs.length === 0) throw new DataError(`${set}: no input_N.pb files`);
    const feeds: Record<string, TensorData> = {};
    for (const f of pbs) {
      const index = Number(/^input_(\d+)\.pb$/.exec(f)![1]);
      const t = decodeTensorFile(readDataFile(join(set, f)), join(set, f));
      // The TensorProto's name is the input's; unnamed files go by position.
      const name = t.name || inputs[index]?.name;
      if (!name) throw new DataError(`${join(set, f)}: unnamed tensor, and the model has no input #${index}`);
      feeds[name] = fromIrTensor(t);
    }
    return { feeds };
  };
  return FileDataset.open(dir, sets, read);
}
