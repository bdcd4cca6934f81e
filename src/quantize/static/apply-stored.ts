/**
 * Applies the stored constants of a plan: each becomes an int8 initializer and a scale read through
 * Cast(to float) -> Mul, which ONNX Runtime folds back into one float initializer when it loads the
 * model (see plan-stored.ts). The decoded values are exactly q x scale in float32, the same values
 * a DequantizeLinear would produce.
 */
import { DataType } from '../../ir/data-type.js';
import { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import { Value } from '../../ir/value.js';
import { quantizeWeight } from '../weights.js';
import type { StoredConstant } from './plan.js';
import { definingGraph, type QdqWriter, type Resolver } from './apply-qdq.js';

export function applyStored(stored: StoredConstant[], r: Resolver, w: QdqWriter): void {
  for (const c of stored) {
    const v = r.value(c.tensor);
    const uses = r.refs(c.uses);
    const t = v.constant!;
    const g = definingGraph(v, w.model.graph);
    const scales = Float32Array.from(c.scales);
    const q = w.initializer(g, `${c.tensor}_i8`, quantizeWeight(t, c.axis, { scales, zeroPoints: new Int32Array(scales.length) }, 'int8'));
    // The scale broadcasts along the channel axis: [1, C, 1, ...] (per-channel) or a scalar.
    const dims = c.axis === null ? [] : t.dims.map((d, i) => (i === c.axis ? d : 1));
    const scale = w.initializer(g, `${c.tensor}_scale`, Tensor.float(dims, scales));
    const cast = new Value(w.derived(c.tensor, 'f'));
    const decoded = new Value(w.derived(c.tensor, 'dec'));
    // Unnamed like the Q/DQ nodes; at the top of the graph that holds the initializer, which every
    // reader (in this graph or a branch inside it) can see.
    const first = g.nodes[0];
    const castNode = new Node('Cast', [q], [cast], { attributes: { to: DataType.FLOAT } });
    const mulNode = new Node('Mul', [cast, scale], [decoded]);
    if (first) {
      g.insertBefore(first, castNode);
      g.insertBefore(first, mulNode);
    } else {
      g.append(castNode);
      g.append(mulNode);
    }
    for (const u of uses) u.node.replaceInput(u.index, decoded);
  }
}
