/**
 * openDataset: the one place that turns what a user points at (a path, a Dataset) into a Dataset
 * bound to a model. `slimnet calibrate --calib`, `slimnet quantize --calib` and `--data` for
 * evaluation all come through here, so every format is validated the same way before any inference.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Model } from '../../ir/model.js';
import { DataError } from '../../errors.js';
import type { Dataset } from './dataset.js';
import { ModelDataset, firstNonFinite, type BindOptions } from './model-dataset.js';
import { NpzDataset } from './npz-dataset.js';
import { modelInputs } from './model-inputs.js';

export interface OpenDatasetOptions extends BindOptions {
  /** Name of the labels array in .npz data (default 'labels'). */
  labelsKey?: string;
}

/** What openDataset accepts: a path, or any Dataset (re-bound when it was bound to another model). */
export type DataSource = string | Dataset;

const FORMATS = 'a .npz file whose arrays are named after the model inputs (first axis = samples)';

function openPath(path: string, model: Model, options: OpenDatasetOptions): Dataset {
  if (!existsSync(path)) throw new DataError(`${path}: no such file or directory (expected ${FORMATS})`);
  const st = statSync(path);
  if (st.isFile() && extname(path).toLowerCase() === '.npz') {
    const names = modelInputs(model).map((s) => s.name);
    const ds = new NpzDataset(path, options.labelsKey ? { labelsKey: options.labelsKey } : {});
    // The arrays are in memory already: find NaN/Inf now, before any inference.
    for (const n of ds.inputNames.filter((x) => names.includes(x))) {
      const t = ds.array(n);
      const bad = firstNonFinite(t);
      if (bad >= 0) {
        const per = t.dims.slice(1).reduce((a, b) => a * b, 1) || 1;
        throw new DataError(`${path}: input '${n}' has a NaN or infinite value in sample ${Math.floor(bad / per)}; clean the data before calibrating`);
      }
    }
    return ds;
  }
  throw new DataError(`${path}: unsupported calibration data (expected ${FORMATS})`);
}

/**
 * Opens calibration/evaluation data for `model`: checks input names, shapes and dtypes against the
 * model's inputs (errors name the file, the input, the expected and the received shape), picks the
 * batch size (1 for models with a fixed batch of 1 or no batch axis), and applies `limit` as a
 * deterministic subset. Stable entry point for calibrate, quantize (`--calib`) and evaluate (`--data`).
 */
export async function openDataset(source: DataSource, model: Model, options: OpenDatasetOptions = {}): Promise<ModelDataset> {
  if (typeof source === 'string') return new ModelDataset(model, openPath(source, model, options), options);
  if (source instanceof ModelDataset) {
    if (source.model === model && options.limit === undefined && options.batchSize === undefined) return source;
    return new ModelDataset(model, source.raw, options);
  }
  return new ModelDataset(model, source, options);
}
