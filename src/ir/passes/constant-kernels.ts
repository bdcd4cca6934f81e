/**
 * The arithmetic of constant folding: the few ONNX ops that only re-store, re-shape or re-type a
 * weight (Cast, Reshape, Transpose, Squeeze, Unsqueeze, Flatten, Identity, Concat,
 * DequantizeLinear), computed on Tensors. Each returns the folded tensor, or a reason it cannot.
 */
import { DataType, dataTypeInfo, dataTypeName } from '../data-type.js';
import { Tensor, typedArrayFor, type TypedArray } from '../tensor.js';
import type { Node } from '../node.js';

export type Folded = Tensor | string;

const FLOAT_TARGETS = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16]);
/** Sources whose values float32 holds exactly (or, for int32, to float32's own precision, as Cast does). */
const NUMERIC_SOURCES = new Set([
  DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16,
  DataType.INT32, DataType.INT4, DataType.UINT4,
]);
const INT_SOURCES = new Set([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32, DataType.INT64, DataType.UINT32]);

function count(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function normAxis(axis: number, rank: number, node: Node): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${node.label()}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Integer axes given by input `index` (opset 13 forms) or by the 'axes' attribute (before). */
function axesOf(node: Node, index: number): number[] | undefined | 'computed' {
  const v = node.input(index);
  if (v) return v.constant ? v.constant.toNumbers() : 'computed';
  return node.getInts('axes');
}

function cast(node: Node, x: Tensor): Folded {
  const to = node.getInt('to', 0) as DataType;
  if (to === x.dataType) return x.reshaped([...x.dims]);
  if (FLOAT_TARGETS.has(to) && NUMERIC_SOURCES.has(x.dataType)) return Tensor.fromFloat32(to, [...x.dims], x.toFloat32());
  if ((to === DataType.INT64 || to === DataType.INT32) && INT_SOURCES.has(x.dataType)) return Tensor.fromFloat32(to, [...x.dims], x.toNumbers());
  return `Cast from ${dataTypeName(x.dataType)} to ${dataTypeName(to)} is not folded`;
}

function reshape(node: Node, x: Tensor, shape: Tensor): Folded {
  const want = shape.toNumbers();
  const allowZero = node.getInt('allowzero', 0) !== 0;
  const dims = want.map((d, i) => (d === 0 && !allowZero ? x.dims[i]! : d));
  const unknown = dims.indexOf(-1);
  if (unknown >= 0) {
    const known = count(dims.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) return `cannot reshape [${x.dims}] to [${want}]`;
    dims[unknown] = x.size / known;
  }
  if (count(dims) !== x.size) return `cannot reshape [${x.dims}] to [${want}]`;
  return x.reshaped(dims);
}

/** A row-major transpose of any rank, on the natural typed array (one element per entry). */
export function transposeData(data: TypedArray, dims: readonly number[], perm: readonly number[]): TypedArray {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = s; s *= dims[i]!; }
  const strides = perm.map((p) => inStrides[p]!);
  const out = new (data.constructor as new (n: number) => TypedArray)(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < data.length; o++) {
    (out as Float32Array)[o] = (data as Float32Array)[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < outDims[d]!) break;
      src -= strides[d]! * outDims[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function transpose(node: Node, x: Tensor): Folded {
  if (x.isString) return 'string tensor';
  const perm = node.getInts('perm') ?? x.dims.map((_, i) => x.rank - 1 - i);
  if (perm.length !== x.rank) return `perm [${perm}] does not match rank ${x.rank}`;
  return Tensor.fromTyped(x.dataType, perm.map((p) => x.dims[p]!), transposeData(x.data(), x.dims, perm));
}

function squeeze(node: Node, x: Tensor): Folded {
  const axes = axesOf(node, 1);
  if (axes === 'computed') return 'its axes are computed at run time';
  const drop = new Set(axes ? axes.map((a) => normAxis(a, x.rank, node)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const a of drop) if (x.dims[a] !== 1) return `axis ${a} has size ${x.dims[a]}, not 1`;
  return x.reshaped(x.dims.filter((_, i) => !drop.has(i)));
}

function unsqueeze(node: Node, x: Tensor): Folded {
  const axes = axesOf(node, 1);
  if (axes === 'computed' || !axes) return 'its axes are not constant';
  const rank = x.rank + axes.length;
  const at = new Set(axes.map((a) => normAxis(a, rank, node)));
  const dims: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) dims.push(at.has(i) ? 1 : x.dims[k++]!);
  return x.reshaped(dims);
}

function flatten(node: Node, x: Tensor): Folded {
  const axis = node.getInt('axis', 1);
  const a = axis < 0 ? axis + x.rank : axis;
  return x.reshaped([count(x.dims.slice(0, a)), count(x.dims.slice(a))]);
}

function concat(node: Node, parts: Tensor[]): Folded {
  const first = parts[0]!;
  if (parts.some((p) => p.dataType !== first.dataType || p.rank !== first.rank)) return 'inputs of different types or ranks';
  if (first.isString) return 'string tensors';
  const axis = normAxis(node.getInt('axis', 0), first.rank, node);
  const outer = count(first.dims.slice(0, axis));
  const dims = [...first.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  const out = typedArrayFor(first.dataType, count(dims));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const p of parts) {
      const chunk = count(p.dims.slice(axis));
      (out as Float32Array).set((p.data() as Float32Array).subarray(i * chunk, (i + 1) * chunk), o);
      o += chunk;
    }
  }
  return Tensor.fromTyped(first.dataType, dims, out);
}

/** (x - zero_point) * scale, per tensor, per axis or per block (opset 21), in the scale's float type. */
function dequantize(node: Node, x: Tensor, scale: Tensor, zp: Tensor | undefined): Folded {
  if (!dataTypeInfo(x.dataType).isInteger) return `its input is ${dataTypeName(x.dataType)}, not an integer`;
  if (!FLOAT_TARGETS.has(scale.dataType)) return `scale is ${dataTypeName(scale.dataType)}`;
  const outType = node.getInt('output_dtype', 0) || scale.dataType;
  if (outType !== scale.dataType) return 'output_dtype differs from the scale type';
  const xs = x.toFloat32();
  const s = scale.toFloat32();
  const z = zp ? zp.toFloat32() : undefined;
  const out = new Float32Array(xs.length);
  if (s.length === 1) {
    const sc = s[0]!;
    const zz = z ? z[0]! : 0;
    for (let i = 0; i < xs.length; i++) out[i] = (xs[i]! - zz) * sc;
  } else {
    const axis = normAxis(node.getInt('axis', 1), x.rank, node);
    const block = node.getInt('block_size', 0);
    const n = x.dims[axis]!;
    const inner = count(x.dims.slice(axis + 1));
    const groups = block > 0 ? Math.ceil(n / block) : n;
    if (scale.size !== (block > 0 ? count(x.dims) / n * groups : n)) return `scale of shape [${scale.dims}] does not match input [${x.dims}] on axis ${axis}`;
    for (let i = 0; i < xs.length; i++) {
      const c = Math.floor(i / inner) % n;
      const g = block > 0 ? Math.floor(c / block) : c;
      // Blocked scales keep the input's layout with the axis cut to `groups`.
      const si = block > 0 ? (Math.floor(i / (inner * n)) * groups + g) * inner + (i % inner) : g;
      out[i] = (xs[i]! - (z ? z[si]! : 0)) * s[si]!;
    }
  }
  return Tensor.fromFloat32(outType as DataType, [...x.dims], out);
}

/** The ops folded when all their inputs are constants. */
export const FOLDABLE_OPS = new Set(['Identity', 'Cast', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Concat', 'DequantizeLinear']);

/** Folds `node` over its constant inputs (all of which must be given, null for an omitted optional one). */
export function foldNode(node: Node, inputs: (Tensor | null)[]): Folded {
  const x = inputs[0];
  if (!x) return 'no input';
  switch (node.opType) {
    case 'Identity': return x.reshaped([...x.dims]);
    case 'Cast': return cast(node, x);
    case 'Reshape': return inputs[1] ? reshape(node, x, inputs[1]) : 'no shape';
    case 'Transpose': return transpose(node, x);
    case 'Squeeze': return squeeze(node, x);
    case 'Unsqueeze': return unsqueeze(node, x);
    case 'Flatten': return flatten(node, x);
    case 'Concat': return inputs.some((t) => !t) ? 'an omitted input' : concat(node, inputs as Tensor[]);
    case 'DequantizeLinear': return inputs[1] ? dequantize(node, x, inputs[1], inputs[2] ?? undefined) : 'no scale';
    default: return `${node.opType} is not folded`;
  }
}
