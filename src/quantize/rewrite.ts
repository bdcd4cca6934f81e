/**
 * Small graph edits the quantization modes share: finding a bias Add to fold into a fused op, and
 * letting a node's output take over another value (its uses, graph-output slot and name), so a
 * rewrite never changes the names a caller feeds or fetches.
 */
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { DataType } from '../ir/data-type.js';
import type { Tensor } from '../ir/tensor.js';

export interface BiasAdd {
  add: Node;
  /** The bias values, length N. */
  bias: Float32Array;
}

/**
 * The Add that adds a constant vector of N floats to `out` when `out` feeds only that Add and is not
 * a graph output, so the bias can move into a fused op (DynamicQuantizeMatMul, MatMulNBits).
 */
export function findBiasAdd(out: Value, n: number): BiasAdd | undefined {
  if (out.uses.length !== 1 || out.isGraphOutput) return undefined;
  const { node: add } = out.uses[0]!;
  if (add.opType !== 'Add' || add.domain !== '' || add.inputs.length !== 2) return undefined;
  const other = add.input(add.inputs[0] === out ? 1 : 0);
  const t: Tensor | undefined = other?.constant;
  if (!t || t.dataType !== DataType.FLOAT || t.size !== n) return undefined;
  // [N], [1,N], [1,1,N]: anything that broadcasts along the last axis only.
  if (t.dims.length > 0 && t.dims[t.dims.length - 1] !== n) return undefined;
  return { add, bias: t.toFloat32() };
}

/**
 * Moves every use of `drop` (including a graph-output slot) to `keep`, removes `drop`'s producer
 * (which must then be unused) and gives `keep` the name of `drop`, so downstream names do not change.
 */
export function absorbOutput(graph: Graph, keep: Value, drop: Value): void {
  const producer = drop.producer;
  if (!producer) throw new Error(`absorbOutput: ${drop.name} has no producer`);
  drop.replaceAllUsesWith(keep);
  graph.remove(producer);
  keep.name = drop.name;
  keep.type = drop.type ?? keep.type;
}
