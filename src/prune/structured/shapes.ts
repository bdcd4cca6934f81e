/**
 * Static shapes of every tensor, as ONNX Runtime infers them when it loads the model (a session that
 * lists every value as an output, created without graph optimizations and never run). Symbolic and
 * unknown dimensions are strings ('' when unnamed). The Reshape, Flatten and broadcast rules need
 * sizes; where a size is unknown they block rather than guess.
 */
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import type { Engine } from '../../runtime/engine.js';

export type Shape = (number | string)[];

export class ShapeMap {
  constructor(private readonly shapes: Map<string, Shape>) {}

  /** The shape of a value: a constant's dims, else ONNX Runtime's inference, else the declared type. */
  of(v: Value | null | undefined): Shape | undefined {
    if (!v) return undefined;
    const c = v.constant;
    if (c) return [...c.dims];
    const s = this.shapes.get(v.name);
    if (s) return s;
    return v.shape?.map((d) => (d === null ? '' : d));
  }

  rank(v: Value | null | undefined): number | undefined {
    return this.of(v)?.length;
  }

  /** The size of axis `axis`, when it is a known number. */
  size(v: Value | null | undefined, axis: number): number | undefined {
    const d = this.of(v)?.[axis];
    return typeof d === 'number' && d >= 0 ? d : undefined;
  }
}

export async function inferShapes(model: Model, engine: Engine): Promise<ShapeMap> {
  const names = model.graph.nodes.flatMap((n) => n.outputs.map((o) => o.name)).filter((n) => n !== '');
  const outputs = new Set(model.graph.outputs.map((o) => o.name));
  const session = await engine.createSession(model, { extraOutputs: names.filter((n) => !outputs.has(n)), graphOptimizationLevel: 'disabled' });
  const shapes = new Map<string, Shape>();
  try {
    for (const o of [...session.info.outputs, ...session.info.inputs]) if (o.shape) shapes.set(o.name, o.shape);
  } finally {
    await session.release();
  }
  return new ShapeMap(shapes);
}
