/**
 * Types and shapes of the tensors to observe. Exported models rarely declare them for intermediate
 * values, and the probe's ReduceMin/Slice nodes only accept numeric tensors, so ONNX Runtime's own
 * type inference is asked once: a session that lists the tensors as outputs, created without graph
 * optimizations (fast) and released without running.
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { SessionOptions } from '../../runtime/types.js';
import { ortType } from '../../runtime/tensor-data.js';
import { extractPart } from '../../ir/extract.js';
import { tensorType, type TypeInfo } from '../../ir/types.js';

export interface TensorInfo {
  /** ORT element type ('float32', 'int64', ...). */
  type: string;
  /** Dims as inferred; strings for symbolic ones. undefined when the rank is unknown. */
  shape?: (number | string)[];
}

export async function discoverTensors(engine: Engine, model: Model, names: readonly string[], session: SessionOptions = {}): Promise<Map<string, TensorInfo>> {
  const out = new Map<string, TensorInfo>();
  const unknown: string[] = [];
  const byName = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o.name, o] as const)));
  for (const n of names) {
    const v = byName.get(n);
    // A declared type and shape need no session.
    if (v?.elemType !== undefined && v.shape) {
      try {
        out.set(n, { type: ortType(v.elemType), shape: v.shape.map((d) => (d === null ? '' : d)) });
        continue;
      } catch { /* a type ONNX Runtime's JS API lacks: ask the runtime */ }
    }
    unknown.push(n);
  }
  if (!unknown.length) return out;
  const s = await engine.createSession(withoutWeights(model), { ...session, extraOutputs: unknown, graphOptimizationLevel: 'disabled' })
    // An op that needs one of them as a constant even unoptimized: ask with the weights.
    .catch(() => engine.createSession(model, { ...session, extraOutputs: unknown, graphOptimizationLevel: 'disabled' }));
  try {
    for (const o of s.info.outputs) {
      if (!unknown.includes(o.name)) continue;
      const info: TensorInfo = { type: o.type ?? 'unknown' };
      if (o.shape) info.shape = o.shape;
      out.set(o.name, info);
    }
  } finally {
    await s.release();
  }
  return out;
}

/** Initializers this large are declared as inputs of the copy that types are inferred on. */
const WEIGHT_BYTES = 4096;

/**
 * The model with its large initializers declared as inputs of the same type and shape: type and
 * shape inference needs no weight values (small constants, such as shapes for Reshape, stay), and
 * encoding and loading them cost ResNet-50 0.7 s per calibration, a 1B decoder's layer its 180 MB
 * once more.
 */
function withoutWeights(model: Model): Model {
  const g = model.graph;
  const inputs = new Map<string, TypeInfo | undefined>(g.inputs.map((v) => [v.name, v.type]));
  for (const [name, v] of g.initializers) {
    const t = v.constValue!;
    if (!inputs.has(name) && !t.isString && t.byteLength >= WEIGHT_BYTES) inputs.set(name, tensorType(t.dataType, [...t.dims]));
  }
  if (inputs.size === g.inputs.length) return model;
  return extractPart(model, g.nodes, inputs, []);
}

/** Values per sample from an inferred shape: numeric dims multiplied, the batch axis and unknown dims counted as 1. */
export function valuesPerSample(info: TensorInfo | undefined): number {
  if (!info?.shape) return 1;
  return info.shape.reduce<number>((a, d) => a * (typeof d === 'number' && d > 0 ? d : 1), 1);
}
