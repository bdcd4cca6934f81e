/**
 * Applies the stored constants of a plan: each becomes an int8 initializer and a scale read through
 * Cast(to float) -> Mul, which ONNX Runtime folds back into one float initializer when it loads the
 * model (see plan-stored.ts). The decoded values are exactly q x scale in float32, the same values
 * a DequantizeLinear would produce. Float16 scales (see plan-stored.ts) get a Cast of their own,
 * folded the same way. The decoded tensor takes the constant's name.
 */
import { DataType } from '../../ir/data-type.js';
import { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import { Value } from '../../ir/value.js';
import type { Graph } from '../../ir/graph.js';
import { quantizeWeight } from '../weights.js';
import type { StoredConstant } from './plan.js';
import { definingGraph, takeName, type QdqWriter, type Resolver } from './apply-qdq.js';

/** A Cast to float32 at the top of `g` (its input is an initializer, visible to every node). */
function castToFloat(g: Graph, w: QdqWriter, x: Value, name: string, at: Node | undefined): Value {
  const out = new Value(w.derived(name, 'f'));
  const node = new Node('Cast', [x], [out], { attributes: { to: DataType.FLOAT } });
  if (at) g.insertBefore(at, node);
  else g.append(node);
  return out;
}

export function applyStored(stored: StoredConstant[], r: Resolver, w: QdqWriter): void {
  for (const c of stored) {
    const v = r.value(c.tensor);
    const uses = r.refs(c.uses);
    const t = v.constant!;
    const g = definingGraph(v, w.model.graph);
    const scales = Float32Array.from(c.scales);
    const q = w.initializer(g, c.tensor, 'i8', quantizeWeight(t, c.axis, { scales, zeroPoints: new Int32Array(scales.length) }, 'int8'));
    // The scale broadcasts along the channel axis: [1, C, 1, ...] (per-channel) or a scalar.
    const dims = c.axis === null ? [] : t.dims.map((d, i) => (i === c.axis ? d : 1));
    const first = g.nodes[0];
    const scale = c.scaleType === 'float16'
      ? castToFloat(g, w, w.initializer(g, c.tensor, 'scale', Tensor.fromFloat32(DataType.FLOAT16, dims, scales)), `${c.tensor}_scale`, first)
      : w.initializer(g, c.tensor, 'scale', Tensor.float(dims, scales));
    const decoded = new Value(w.derived(c.tensor, 'dec'));
    // Unnamed like the Q/DQ nodes.
    const mul = new Node('Mul', [castToFloat(g, w, q, c.tensor, first), scale], [decoded]);
    if (first) g.insertBefore(first, mul);
    else g.append(mul);
    for (const u of uses) u.node.replaceInput(u.index, decoded);
    takeName(v, decoded, g, w);
  }
}
