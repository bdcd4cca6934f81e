/**
 * Applies the stored constants of a plan: each becomes an int8 initializer and a scale read through
 * Cast(to float) -> Mul, which ONNX Runtime folds back into one float initializer when it loads the
 * model (see plan-stored.ts). The decoded values are exactly q x scale in float32, the same values
 * a DequantizeLinear would produce. Float16 scales (see plan-stored.ts) get a Cast of their own,
 * folded the same way. The decoded tensor takes the constant's name. Pooled constants (see
 * plan-stored.ts) share one int8 [k, L] initializer decoded by Cast -> Mul -> Reshape -> Split,
 * whose outputs take the members' names.
 */
import { DataType } from '../../ir/data-type.js';
import { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import { Value } from '../../ir/value.js';
import type { Graph } from '../../ir/graph.js';
import { quantizeWeight } from '../weights.js';
import type { StoredConstant } from './plan.js';
import { definingGraph, takeName, type QdqWriter, type Resolver } from './apply-qdq.js';

export function applyStored(stored: StoredConstant[], r: Resolver, w: QdqWriter): void {
  const pools = new Map<Graph, Map<string, StoredConstant[]>>();
  for (const c of stored) {
    if (c.pool === undefined) continue;
    const g = definingGraph(r.value(c.tensor), w.model.graph);
    const inGraph = pools.get(g) ?? new Map<string, StoredConstant[]>();
    inGraph.set(c.pool, [...(inGraph.get(c.pool) ?? []), c]);
    pools.set(g, inGraph);
  }
  for (const inGraph of pools.values()) for (const members of inGraph.values()) applyPool(members, r, w);
  for (const c of stored) {
    if (c.pool !== undefined) continue;
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
      ? w.castToFloat(g, w.initializer(g, c.tensor, 'scale', Tensor.fromFloat32(DataType.FLOAT16, dims, scales)), `${c.tensor}_scale`, first)
      : w.initializer(g, c.tensor, 'scale', Tensor.float(dims, scales));
    const decoded = new Value(w.derived(c.tensor, 'dec'));
    // Unnamed like the Q/DQ nodes.
    const mul = new Node('Mul', [w.castToFloat(g, q, c.tensor, first), scale], [decoded]);
    if (first) g.insertBefore(first, mul);
    else g.append(mul);
    for (const u of uses) u.node.replaceInput(u.index, decoded);
    takeName(v, decoded, g, w);
  }
}

/** One pool: int8 [k, L] with a scale per row, decoded once; row i takes member i's name. */
function applyPool(members: StoredConstant[], r: Resolver, w: QdqWriter): void {
  const values = members.map((c) => r.value(c.tensor));
  const g = definingGraph(values[0]!, w.model.graph);
  const length = values[0]!.constant!.size;
  const rows = new Float32Array(members.length * length);
  values.forEach((v, i) => rows.set(v.constant!.toFloat32(), i * length));
  const scales = Float32Array.from(members, (c) => c.scales[0]!);
  const k = members.length;
  const pool = members[0]!.pool!;
  const q = w.initializer(g, pool, 'i8', quantizeWeight(Tensor.float([k, length], rows), 0, { scales, zeroPoints: new Int32Array(k) }, 'int8'));
  const first = g.nodes[0];
  const at = (node: Node) => (first ? g.insertBefore(first, node) : g.append(node));
  const decoded = new Value(w.derived(pool, 'dec'));
  at(new Node('Mul', [w.castToFloat(g, q, pool, first), w.initializer(g, pool, 'scale', Tensor.float([k, 1], scales))], [decoded]));
  const flat = new Value(w.derived(pool, 'flat'));
  at(new Node('Reshape', [decoded, w.initializer(g, pool, 'shape', Tensor.fromTyped(DataType.INT64, [1], BigInt64Array.of(BigInt(k * length))))], [flat]));
  const pieces = values.map((v) => new Value(w.derived(v.name, 'dec')));
  const sizes = new Array<number>(k).fill(length);
  // Split takes its sizes as an input from opset 13, as an attribute before.
  at((w.model.opset('') ?? 1) >= 13
    ? new Node('Split', [flat, w.initializer(g, pool, 'split', Tensor.fromTyped(DataType.INT64, [k], BigInt64Array.from(sizes, BigInt)))], pieces, { attributes: { axis: 0 } })
    : new Node('Split', [flat], pieces, { attributes: { axis: 0, split: sizes } }));
  members.forEach((c, i) => {
    for (const u of r.refs(c.uses)) u.node.replaceInput(u.index, pieces[i]!);
    takeName(values[i]!, pieces[i]!, g, w);
  });
}
