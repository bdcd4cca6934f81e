/**
 * Turns an IR model into something ONNX Runtime can load: bytes, or (for models too large for one
 * protobuf message) a temporary file with external data. Also adds intermediate tensors as outputs
 * on the encoded copy only, leaving the caller's model untouched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../ir/model.js';
import { Node } from '../ir/node.js';
import { Value } from '../ir/value.js';
import { DataType } from '../ir/data-type.js';
import { tensorType } from '../ir/types.js';
import { encodeModel, type EncodeAlloc } from '../onnx/encode.js';
import { saveModel } from '../onnx/io.js';
import { removeOnExit } from '../onnx/atomic-write.js';
import { forEachTensor, storedTensorBytes } from '../onnx/tensors.js';
import { InvalidModelError } from '../errors.js';

export interface PreparedModel {
  source: { bytes: Uint8Array } | { path: string };
  /** Output name in the session -> name the caller asked for (int4 values are fetched through a Cast). */
  aliases: Map<string, string>;
  cleanup(): void;
}

const BYTES_LIMIT = 1.5 * 2 ** 30;

/** The element type of a value, when its declaration or producer tells. */
export function knownElemType(v: Value): DataType | undefined {
  if (v.elemType !== undefined) return v.elemType;
  const p = v.producer;
  if (p && p.opType === 'QuantizeLinear' && v.producerIndex === 0) {
    const zp = p.input(2)?.constant;
    if (zp) return zp.dataType;
    const attr = p.getInt('output_dtype');
    if (attr) return attr as DataType;
  }
  return undefined;
}

function isInt4(t: DataType | undefined): boolean {
  return t === DataType.INT4 || t === DataType.UINT4;
}

/** `alloc`: where the encoded bytes go (an Engine's reusable buffer); fresh memory by default. */
export function prepareModel(model: Model, extraOutputs: string[] = [], alloc?: EncodeAlloc): PreparedModel {
  const g = model.graph;
  for (const o of g.outputs) {
    if (isInt4(knownElemType(o))) {
      // onnxruntime-node 1.30 aborts the whole process when it returns an int4/uint4 tensor.
      throw new InvalidModelError(`${model.label()}: output '${o.name}' is ${DataType[knownElemType(o)!]}; ONNX Runtime's Node API crashes on 4-bit outputs, so slimnet refuses to run it (add a Cast to int8)`);
    }
  }
  const aliases = new Map<string, string>();
  const addedOutputs: Value[] = [];
  const addedNodes: Node[] = [];
  if (extraOutputs.length) {
    const byName = new Map<string, Value>();
    for (const v of g.values()) byName.set(v.name, v);
    const existing = new Set(g.outputs.map((o) => o.name));
    for (const name of new Set(extraOutputs)) {
      if (existing.has(name)) continue;
      const v = byName.get(name);
      if (!v) throw new InvalidModelError(`${model.label()}: no tensor named '${name}' in the main graph`);
      if (isInt4(knownElemType(v))) {
        const out = new Value(`${name}__as_int8`, tensorType(knownElemType(v) === DataType.INT4 ? DataType.INT8 : DataType.UINT8));
        const cast = new Node('Cast', [v], [out], { name: `${name}__slimnet_cast`, attributes: { to: knownElemType(v) === DataType.INT4 ? DataType.INT8 : DataType.UINT8 } });
        addedNodes.push(cast);
        addedOutputs.push(out);
        aliases.set(out.name, name);
      } else {
        addedOutputs.push(v);
      }
    }
  }
  const savedOutputs = [...g.outputs];
  // Temporary edits for encoding only; restored in `finally` so the caller's model never changes.
  g.append(...addedNodes);
  g.outputs.push(...addedOutputs);
  try {
    if (storedTensorBytes(model) < BYTES_LIMIT) {
      return { source: { bytes: encodeModel(model, undefined, alloc) }, aliases, cleanup: () => {} };
    }
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-'));
    const guard = removeOnExit(dir);
    const path = join(dir, 'model.onnx');
    // Saving relocates external tensors; keep the model pointing at its own files by cloning locations first.
    saveModelCopy(model, path);
    return { source: { path }, aliases, cleanup: () => { rmSync(dir, { recursive: true, force: true }); guard.release(); } };
  } finally {
    g.outputs.splice(0, g.outputs.length, ...savedOutputs);
    for (const n of addedNodes) g.remove(n, { force: true });
  }
}

/** Saves to a temp path with external data without moving the model's own external references. */
function saveModelCopy(model: Model, path: string): void {
  const locations: [import('../ir/tensor.js').Tensor, import('../ir/tensor.js').ExternalLocation | undefined][] = [];
  forEachTensor(model, (t) => locations.push([t, t.externalLocation]));
  saveModel(model, path, { externalData: { threshold: 1024 } });
  for (const [t, loc] of locations) t.relocate(loc);
}
