/**
 * Rewriting the constants of one node without touching other readers: the recovery methods scale
 * weights, biases and LayerNorm parameters in place, and a constant shared with another node gets
 * a copy of its own first (named by the model's name authority).
 */
import type { Model } from '../../../ir/model.js';
import type { Node } from '../../../ir/node.js';
import { Tensor } from '../../../ir/tensor.js';
import { DataType } from '../../../ir/data-type.js';
import type { Value } from '../../../ir/value.js';

/** The float32 values of input `index` of `node`, or undefined when it is not a float constant initializer. */
export function constantValues(node: Node, index: number): Float32Array | undefined {
  const v = node.input(index);
  const t = v?.constant;
  if (!v || !t || !v.isInitializer || t.dataType !== DataType.FLOAT) return undefined;
  return t.toFloat32();
}

/** Whether input `index` of `node` is an initializer that no other slot reads (safe to rewrite). */
export function ownsConstant(node: Node, index: number): boolean {
  const v = node.input(index);
  return !!v && v.isInitializer && v.uses.length === 1 && !v.isGraphOutput && !v.isGraphInput;
}

/**
 * Writes `values` (float32, shape `dims`) as input `index` of `node`: replaces the initializer's
 * tensor when only this slot reads it and the shape stays, else gives the node a new initializer
 * (`base` names it; the old one is dropped by the clean-up passes when nothing reads it).
 * A missing optional input (a Conv without bias) is added.
 */
export function writeConstant(model: Model, node: Node, index: number, dims: number[], values: ArrayLike<number>, base: string): Value {
  const g = node.graph ?? model.graph;
  const v = node.input(index);
  const sameShape = v?.constValue?.dims.join() === dims.join();
  if (v && sameShape && ownsConstant(node, index)) {
    v.constValue = Tensor.float(dims, values, v.constValue?.name ?? v.name);
    return v;
  }
  const name = model.names.fresh(base);
  const nv = g.addInitializer(name, Tensor.float(dims, values, name));
  while (node.inputs.length < index) node.appendInput(null);
  if (node.inputs.length === index) node.appendInput(nv);
  else node.replaceInput(index, nv);
  return nv;
}
