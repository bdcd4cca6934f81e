/**
 * Hashes that pin an evaluation to exactly what it ran: the model bytes and the samples fed.
 * A model given as a path is hashed as the file (plus any external data files it references);
 * an in-memory model is hashed as its encoded bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Model } from '../ir/model.js';
import { modelToBytes } from '../onnx/io.js';
import { forEachTensor } from '../onnx/tensors.js';
import type { Feeds, TensorData } from '../runtime/types.js';

/** Files that make up a model on disk: the .onnx file and its external data files. */
export function modelFiles(model: Model, path: string): string[] {
  const files = new Set<string>([path]);
  forEachTensor(model, (t) => { const loc = t.externalLocation; if (loc) files.add(loc.path); });
  return [...files];
}

export function modelSha256(model: Model, path?: string): string {
  const h = createHash('sha256');
  if (path) for (const f of modelFiles(model, path)) h.update(readFileSync(f));
  else h.update(modelToBytes(model));
  return h.digest('hex');
}

/** Bytes on disk (file plus external data), or the encoded size of an in-memory model. */
export function modelSizeBytes(model: Model, path?: string): number {
  if (path) return modelFiles(model, path).reduce((s, f) => s + statSync(f).size, 0);
  return modelToBytes(model).byteLength;
}

/**
 * sha256 over the samples as they were fed: per input (and labels), its type, per-sample shape and
 * raw bytes, so the hash does not depend on how the data was split into batches.
 */
export class DataHasher {
  private readonly parts = new Map<string, Hash>();

  add(feeds: Feeds, labels?: TensorData): void {
    for (const [name, t] of Object.entries(feeds)) this.tensor(name, t);
    if (labels) this.tensor('\u0000labels', labels);
  }

  private tensor(name: string, t: TensorData): void {
    let h = this.parts.get(name);
    if (!h) {
      h = createHash('sha256').update(`${name}:${t.type}:${t.dims.slice(1).join('x')};`);
      this.parts.set(name, h);
    }
    if (Array.isArray(t.data)) for (const s of t.data) h.update(`${s.length}:${s}`);
    else h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }

  digest(): string {
    const all = createHash('sha256');
    for (const name of [...this.parts.keys()].sort()) all.update(this.parts.get(name)!.copy().digest());
    return all.digest('hex');
  }
}
