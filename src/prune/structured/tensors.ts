/** Constants behind node inputs, and cutting positions out of them along one axis. */
import { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor, typedArrayFor } from '../../ir/tensor.js';

/** The constant a value holds: an initializer or Constant output, or a Cast of one (float16 weights). */
export function constOf(v: Value | null | undefined): { tensor: Tensor; source: Value; cast?: Node } | undefined {
  if (!v) return undefined;
  const t = v.constant;
  if (t) return { tensor: t, source: v };
  const p = v.producer;
  if (p && p.opType === 'Cast' && p.domain === '') {
    const src = p.input(0);
    const st = src?.constant;
    if (src && st) return { tensor: st, source: src, cast: p };
  }
  return undefined;
}

/** The values of a small integer constant (shapes, axes, sizes), or undefined. */
export function constInts(v: Value | null | undefined): number[] | undefined {
  const c = v?.constant;
  if (!c || c.dataType === DataType.STRING) return undefined;
  return c.toNumbers();
}

/** The positions `kept` of axis `axis` (a copy, same type). */
export function sliceTensor(t: Tensor, axis: number, kept: Int32Array): Tensor {
  const dims = [...t.dims];
  const c = dims[axis]!;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const src = t.data();
  dims[axis] = kept.length;
  const n = outer * kept.length * inner;
  const out = typedArrayFor(t.dataType, t.dataType === DataType.COMPLEX64 || t.dataType === DataType.COMPLEX128 ? n / 2 : n);
  const set = out as unknown as { set(a: ArrayLike<number | bigint>, o: number): void };
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < kept.length; k++) {
      const from = (o * c + kept[k]!) * inner;
      set.set((src as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> }).subarray(from, from + inner), (o * kept.length + k) * inner);
    }
  }
  return Tensor.fromTyped(t.dataType, dims, out, t.name);
}

/**
 * Gives `node` input `index` the constant `tensor` instead of the one it reads (through its Cast,
 * for narrow stored weights). The stored value is replaced in place when this node is its only
 * reader; otherwise the node gets a new initializer, so other readers keep theirs.
 */
export function replaceConstant(node: Node, index: number, tensor: Tensor): void {
  const v = node.input(index)!;
  const g = node.graph!;
  const names = g.nameAuthority();
  const c = constOf(v)!;
  const fresh = (base: string) => names?.fresh(base) ?? `${base}_pruned`;
  if (c.cast) {
    const cast = c.cast;
    if (v.uses.length === 1 && c.source.uses.length === 1 && c.source.isInitializer) {
      c.source.constValue = tensor;
      tensor.name = c.source.name;
      return;
    }
    const src = g.addInitializer(fresh(`${c.source.name}_pruned`), tensor);
    const castNode = new Node('Cast', [src], [fresh(`${v.name}_pruned`)], { name: fresh(`${cast.name || 'Cast'}_pruned`), attributes: [...cast.attributes.values()] });
    g.insertBefore(node, castNode);
    node.replaceInput(index, castNode.outputs[0]!);
    return;
  }
  if (v.isInitializer && v.uses.length === 1 && !v.isGraphInput && !v.isGraphOutput) {
    v.constValue = tensor;
    tensor.name = v.name;
    v.type = undefined; // an initializer's type is its tensor's
    return;
  }
  node.replaceInput(index, g.addInitializer(fresh(`${v.name}_pruned`), tensor));
}
