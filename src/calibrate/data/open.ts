/**
 * openDataset: the one place that turns what a user points at (a path, a Dataset, an iterable)
 * into a Dataset bound to a model. `slimnet calibrate --calib`, `slimnet quantize --calib` and
 * `--data` for evaluation all come through here, so every format is validated the same way, and
 * before any inference.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Model } from '../../ir/model.js';
import { DataError, OptionError } from '../../errors.js';
import type { Dataset } from './dataset.js';
import { ModelDataset, type BindOptions } from './model-dataset.js';
import { firstNonFinite } from './finite.js';
import { NpzDataset } from './npz-dataset.js';
import { modelInputs, type InputSpec } from './model-inputs.js';
import { FileDataset } from './file-dataset.js';
import { isOnnxTestData, listFiles, openOnnxTestData, openSampleFiles } from './sample-files.js';
import { isImage, listImages, openImageDir, PREPROCESS_PRESETS, type ImagePreprocess } from './images.js';
import { openJson } from './json-data.js';
import { ArrayDataset } from './array-dataset.js';
import { parseNpy } from './npy.js';
import { readDataFile } from './read-file.js';
import { IterableDataset, isItemSource, type ItemSource, type Transform } from './iterable.js';

export interface OpenDatasetOptions extends BindOptions {
  /** Name of the labels array in .npz data (default 'labels'). */
  labelsKey?: string;
  /** Image preprocessing: a preset name ('imagenet', 'unit', 'raw') or the steps. */
  preprocess?: ImagePreprocess | string;
  /** For iterables: turns each item into feeds. */
  transform?: Transform<unknown>;
  /** For iterables: how many items there are, when known (for progress). */
  size?: number;
  /** Read every sample file once before inference to name a bad one early (default true). */
  validate?: boolean;
  signal?: AbortSignal;
}

/** What openDataset accepts: a path, any Dataset (re-bound to this model), or an (async) iterable of feeds. */
export type DataSource = string | Dataset | ItemSource<unknown>;

const FORMATS = 'a .npz file (arrays named after the model inputs, first axis = samples), a .npy file, a .json/.jsonl file, or a directory of .npy/.npz files, images, or ONNX test data (input_0.pb)';

export function resolvePreprocess(p: ImagePreprocess | string | undefined): ImagePreprocess {
  if (p === undefined) return {};
  if (typeof p !== 'string') return p;
  const preset = PREPROCESS_PRESETS[p];
  if (!preset) throw new OptionError(`--preprocess: unknown preset '${p}' (presets: ${Object.keys(PREPROCESS_PRESETS).join(', ')}; or give the steps as JSON)`);
  return preset;
}

function checkFiniteArrays(path: string, arrays: { name: string; t: import('../../runtime/types.js').TensorData }[]): void {
  for (const { name, t } of arrays) {
    const bad = firstNonFinite(t);
    if (bad >= 0) {
      const per = t.dims.slice(1).reduce((a, b) => a * b, 1) || 1;
      throw new DataError(`${path}: input '${name}' has a NaN or infinite value in sample ${Math.floor(bad / per)}; clean the data first (e.g. numpy's np.nan_to_num, or drop those samples)`);
    }
  }
}

async function openPath(path: string, inputs: InputSpec[], options: OpenDatasetOptions): Promise<Dataset> {
  if (!existsSync(path)) throw new DataError(`${path}: no such file or directory (expected ${FORMATS})`);
  const names = inputs.map((s) => s.name);
  if (statSync(path).isDirectory()) {
    if (isOnnxTestData(path)) return openOnnxTestData(path, inputs);
    const samples = listFiles(path, ['.npy', '.npz']);
    if (samples.length) return openSampleFiles(path, samples, inputs);
    if (readdirSync(path).some((e) => isImage(e) || statSync(join(path, e)).isDirectory()) && listImages(path).files.length) {
      return openImageDir(path, inputs, resolvePreprocess(options.preprocess));
    }
    throw new DataError(`${path}: no sample files in this directory (expected ${FORMATS})`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.npz') {
    // Only the arrays the model takes (and the labels) are read: ids, texts and metadata kept beside them are left alone.
    const ds = new NpzDataset(path, { inputs: names, bound: true, ...(options.labelsKey ? { labelsKey: options.labelsKey } : {}) });
    // The arrays are in memory already: find NaN/Inf now, before any inference.
    checkFiniteArrays(path, ds.inputNames.filter((n) => names.includes(n)).map((n) => ({ name: n, t: ds.array(n) })));
    ds.finiteChecked = true;
    return ds;
  }
  if (ext === '.npy') {
    if (inputs.length !== 1) throw new DataError(`${path}: a single .npy array can only feed a model with one input; this model has ${names.join(', ')}: use a .npz with arrays named after them`);
    const t = parseNpy(readDataFile(path), path);
    checkFiniteArrays(path, [{ name: names[0]!, t }]);
    const ds = new ArrayDataset(path, { [names[0]!]: t });
    ds.finiteChecked = true;
    return ds;
  }
  if (ext === '.json' || ext === '.jsonl') return openJson(path, inputs);
  throw new DataError(`${path}: unsupported calibration data (expected ${FORMATS})`);
}

/**
 * Opens calibration/evaluation data for `model`: checks input names, shapes and dtypes against the
 * model's inputs (errors name the file, the input, the expected and the received shape), reads
 * sample files once to name a bad one (NaN/Inf, unreadable image, odd shape) before inference,
 * picks the batch size (1 for models with a fixed batch of 1 or no batch axis), and applies
 * `limit` as a deterministic subset. The stable entry point for calibrate, quantize (`--calib`)
 * and evaluate (`--data`).
 */
export async function openDataset(source: DataSource, model: Model, options: OpenDatasetOptions = {}): Promise<ModelDataset> {
  if (source instanceof ModelDataset) {
    if (source.model === model && options.limit === undefined && options.batchSize === undefined) return source;
    // Re-bound (another model, batch size or subset): what was not asked anew stays as it was.
    const merged: BindOptions = { ...source.options };
    for (const k of ['limit', 'seed', 'batchSize'] as const) if (options[k] !== undefined) merged[k] = options[k];
    return new ModelDataset(model, source.raw, merged);
  }
  let raw: Dataset;
  if (typeof source === 'string') raw = await openPath(source, modelInputs(model), options);
  else if (isDataset(source)) raw = source;
  else if (isItemSource(source)) {
    const o: { transform?: Transform<unknown>; size?: number } = {};
    if (options.transform) o.transform = options.transform;
    if (options.size !== undefined) o.size = options.size;
    raw = await IterableDataset.open(source, o);
  } else throw new OptionError(`data: expected a path, a Dataset or an iterable of feeds (got ${typeof source})`);
  const bound = new ModelDataset(model, raw, options);
  if (raw instanceof FileDataset && options.validate !== false) await raw.validate(bound.sampleIndices, options.signal);
  return bound;
}

function isDataset(x: unknown): x is Dataset {
  return typeof x === 'object' && x !== null && typeof (x as Dataset).batches === 'function' && Array.isArray((x as Dataset).inputNames);
}
