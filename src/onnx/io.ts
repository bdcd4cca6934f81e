/** Loading and saving models: files, bytes, external data. */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Model } from '../ir/model.js';
import type { Tensor, ExternalLocation } from '../ir/tensor.js';
import { InvalidModelError, OptionError } from '../errors.js';
import { decodeModel } from './decode.js';
import { encodeModel, type TensorSink } from './encode.js';
import { AtomicFile, abortAll, commitAll, stageFile, type Staged } from './atomic-write.js';
import { forEachTensor, storedTensorBytes } from './tensors.js';
import { checkExternalDataFile } from './external-data-path.js';

/** Protobuf messages cannot exceed 2 GiB; keep a margin for the graph structure. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
const INLINE_BUDGET = PROTOBUF_LIMIT - 64 * 1024 * 1024;

export interface LoadOptions {
  /** Directory external data is relative to, when loading bytes. */
  baseDir?: string;
}

/** Loads a model file (external data is resolved next to it and read lazily, tensor by tensor). */
export function loadModel(path: string, _options: LoadOptions = {}): Model {
  const abs = resolve(path);
  let st: Stats;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidModelError(code === 'ENOENT' || code === 'ENOTDIR' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`);
  }
  if (st.isDirectory()) throw new InvalidModelError(`${path}: is a directory, not an .onnx file`);
  // A FIFO or a device would block or never end; only regular files are models.
  if (!st.isFile()) throw new InvalidModelError(`${path}: not a regular file; give the path of an .onnx file`);
  if (st.size === 0) throw new InvalidModelError(`${path}: the file is empty`);
  if (st.size > PROTOBUF_LIMIT) throw new InvalidModelError(`${path}: ${st.size} bytes is over protobuf's 2 GB limit; ONNX files that large must keep weights as external data`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(abs);
  } catch (err) {
    throw new InvalidModelError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const model = decodeModel(bytes, { baseDir: dirname(abs), source: path });
  // ONNX Runtime fails on such a model with an internal assertion; the file is simply incomplete.
  if (model.graph.outputs.length === 0) throw new InvalidModelError(`${path}: the graph has no outputs; a model must declare at least one`);
  checkExternalData(model, dirname(abs), path);
  return model;
}

/** Decodes a model from bytes; external data (if any) is looked up in `baseDir`. */
export function loadModelFromBytes(bytes: Uint8Array, options: LoadOptions & { source?: string } = {}): Model {
  const source = options.source ?? '<bytes>';
  const model = decodeModel(bytes, { baseDir: options.baseDir, source });
  if (options.baseDir !== undefined) checkExternalData(model, options.baseDir, source);
  return model;
}

/**
 * Fails early, naming the file, when an external data file is missing, outside the model's
 * directory (symlinks followed), not a regular file, or too short for a tensor's bytes.
 */
function checkExternalData(model: Model, baseDir: string, source: string): void {
  const sizes = new Map<string, number>();
  forEachTensor(model, (t) => {
    const ext = t.externalLocation;
    if (!ext || !t.isExternal) return;
    let size = sizes.get(ext.path);
    if (size === undefined) {
      size = checkExternalDataFile(baseDir, ext.path, ext.location, t.name, source);
      sizes.set(ext.path, size);
    }
    if (ext.offset + ext.length > size) {
      throw new InvalidModelError(`${source}: external data file '${ext.location}' is ${size} bytes, but tensor '${t.name}' needs bytes ${ext.offset}..${ext.offset + ext.length}; the data file is truncated or belongs to another model`);
    }
  });
}

export interface SaveOptions {
  /**
   * External data: `true` or an object to store tensors of at least `threshold` bytes (default 1024)
   * in `location` (default '<model file name>.data') next to the model. Models whose weights would
   * exceed protobuf's 2 GB limit always use external data.
   */
  externalData?: boolean | { location?: string; threshold?: number };
  /**
   * A copy (a temporary file for a check): the model's external tensors keep reading from the
   * files they were read from, instead of moving to the new data file (which may go away).
   */
  copy?: boolean;
}

export interface SaveResult {
  path: string;
  /** Size of the .onnx file. */
  bytes: number;
  externalDataPath?: string;
  externalDataBytes?: number;
  notes: string[];
}


/** A model written to temporary files (the .onnx and any external data), renamed into place on commit. */
export interface StagedModel extends Staged {
  result: SaveResult;
}

/** Saves atomically (temp file + rename), with weights inline or as external data. */
export function saveModel(model: Model, path: string, options: SaveOptions = {}): SaveResult {
  const staged = stageModel(model, path, options);
  staged.commit();
  return staged.result;
}

/**
 * Writes the model to temporary files next to `path` without renaming them: commit() puts them in
 * place (data file first, so the model never points at a missing one), abort() removes them. For
 * commands that write several outputs and must write all of them or none (see commitAll).
 */
export function stageModel(model: Model, path: string, options: SaveOptions = {}): StagedModel {
  const abs = resolve(path);
  const notes: string[] = [];
  let ext = options.externalData;
  if (!ext && storedTensorBytes(model) > INLINE_BUDGET) {
    ext = true;
    notes.push(`weights exceed protobuf's 2 GB limit: saved as external data in ${basename(abs)}.data`);
  }
  if (!ext) {
    materializeExternal(model);
    const bytes = encodeModel(model);
    const file = stageFile(abs, bytes);
    return { result: { path: abs, bytes: bytes.length, notes }, commit: () => file.commit(), abort: () => file.abort() };
  }
  const cfg = ext === true ? {} : ext;
  const location = cfg.location ?? `${basename(abs)}.data`;
  if (location.includes('/') || location.includes('\\')) {
    throw new OptionError(`external data location '${location}' must be a plain file name next to the model`);
  }
  const threshold = cfg.threshold ?? 1024;
  const dataPath = resolve(dirname(abs), location);
  const dataFile = new AtomicFile(dataPath);
  const moved: [Tensor, ExternalLocation][] = [];
  const sink: TensorSink = {
    external(t) {
      if (t.byteLength < threshold) {
        // Stays inline: read it now, before its old data file can be replaced.
        t.bytes();
        return undefined;
      }
      // Page-align big tensors so ONNX Runtime can map them; small ones only need 16-byte alignment.
      dataFile.align(t.byteLength >= 65536 ? 4096 : 16);
      const offset = dataFile.size;
      const wasExternal = t.isExternal;
      dataFile.write(t.bytes());
      // Read from the old data file and written: dropped again, so a model larger than memory streams.
      if (wasExternal) t.release();
      moved.push([t, { path: dataPath, location, offset, length: t.byteLength }]);
      return { location, offset, length: t.byteLength };
    },
  };
  let modelFile: AtomicFile | undefined;
  try {
    modelFile = new AtomicFile(abs);
    const bytes = encodeModel(model, sink);
    modelFile.write(bytes);
    dataFile.close();
    modelFile.close();
    const files = [dataFile, modelFile];
    return {
      result: { path: abs, bytes: bytes.length, externalDataPath: dataPath, externalDataBytes: dataFile.size, notes },
      commit: () => {
        commitAll(files);
        if (options.copy) return;
        for (const [t, loc] of moved) t.relocate(loc);
        model.baseDir = dirname(abs);
      },
      abort: () => abortAll(files),
    };
  } catch (err) {
    modelFile?.abort();
    dataFile.abort();
    throw err;
  }
}

/** Reads every external tensor into memory (before its data file may be overwritten). */
function materializeExternal(model: Model): void {
  forEachTensor(model, (t) => { if (t.isExternal) t.bytes(); });
}

/** Encodes a model to bytes with every tensor inline (external data is read). */
export function modelToBytes(model: Model): Uint8Array {
  if (storedTensorBytes(model) > INLINE_BUDGET) {
    throw new OptionError(`${model.label()}: weights exceed protobuf's 2 GB limit; save it to a file with external data instead`);
  }
  return encodeModel(model);
}
