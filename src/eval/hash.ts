/**
 * Model hashes and sizes for reports. A model given as a path is hashed as the file plus any
 * external data files it references (what `sha256sum` shows for a single file); an in-memory model
 * gets the content hash of src/onnx/hash.ts. The data hash is calibration's DataHasher.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Model } from '../ir/model.js';
import { modelToBytes } from '../onnx/io.js';
import { forEachTensor } from '../onnx/tensors.js';
import { modelHash } from '../onnx/hash.js';

/** Files that make up a model on disk: the .onnx file and its external data files. */
export function modelFiles(model: Model, path: string): string[] {
  const files = new Set<string>([path]);
  forEachTensor(model, (t) => { const loc = t.externalLocation; if (loc) files.add(loc.path); });
  return [...files];
}

export function modelSha256(model: Model, path?: string): string {
  if (!path) return modelHash(model);
  const h = createHash('sha256');
  for (const f of modelFiles(model, path)) h.update(readFileSync(f));
  return h.digest('hex');
}

/** Bytes on disk (file plus external data), or the encoded size of an in-memory model. */
export function modelSizeBytes(model: Model, path?: string): number {
  if (path) return modelFiles(model, path).reduce((s, f) => s + statSync(f).size, 0);
  return modelToBytes(model).byteLength;
}
