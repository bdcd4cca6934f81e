/** Node attributes. GRAPH/GRAPHS attributes hold IR Graphs, so subgraphs are first-class. */
import type { Tensor } from './tensor.js';
import type { Graph } from './graph.js';
import type { TypeInfo } from './types.js';

export enum AttrType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSOR = 11,
  SPARSE_TENSORS = 12,
  TYPE_PROTO = 13,
  TYPE_PROTOS = 14,
}

export interface SparseTensor {
  values: Tensor;
  indices: Tensor;
  dims: number[];
}

export type AttrValue =
  | { type: AttrType.FLOAT; value: number }
  | { type: AttrType.INT; value: number }
  | { type: AttrType.STRING; value: Uint8Array }
  | { type: AttrType.TENSOR; value: Tensor }
  | { type: AttrType.GRAPH; value: Graph }
  | { type: AttrType.SPARSE_TENSOR; value: SparseTensor }
  | { type: AttrType.TYPE_PROTO; value: TypeInfo }
  | { type: AttrType.FLOATS; value: number[] }
  | { type: AttrType.INTS; value: number[] }
  | { type: AttrType.STRINGS; value: Uint8Array[] }
  | { type: AttrType.TENSORS; value: Tensor[] }
  | { type: AttrType.GRAPHS; value: Graph[] }
  | { type: AttrType.SPARSE_TENSORS; value: SparseTensor[] }
  | { type: AttrType.TYPE_PROTOS; value: TypeInfo[] };

export type Attribute = AttrValue & {
  name: string;
  docString?: string;
  /** Inside a FunctionProto: refers to an attribute of the calling node. */
  refAttrName?: string;
};

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

export function encodeString(s: string): Uint8Array {
  return utf8.encode(s);
}
export function decodeString(b: Uint8Array): string {
  return utf8d.decode(b);
}

/** Builds an attribute from a plain JS value, inferring its type. */
export function makeAttribute(name: string, value: AttrInput): Attribute {
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Object.is(value, -0) ? { name, type: AttrType.INT, value } : { name, type: AttrType.FLOAT, value };
  }
  if (typeof value === 'string') return { name, type: AttrType.STRING, value: encodeString(value) };
  if (Array.isArray(value)) {
    if (value.length === 0) return { name, type: AttrType.INTS, value: [] };
    if (typeof value[0] === 'string') return { name, type: AttrType.STRINGS, value: (value as string[]).map(encodeString) };
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v)) ? { name, type: AttrType.INTS, value: nums } : { name, type: AttrType.FLOATS, value: nums };
  }
  if (isTyped(value)) return value;
  throw new Error(`attribute ${name}: cannot infer the type of ${String(value)}`);
}

function isTyped(v: unknown): v is Attribute {
  return typeof v === 'object' && v !== null && 'type' in v && 'value' in v;
}

/** Plain values accepted by builders: numbers (INT when integral), strings, arrays, or a typed Attribute. */
export type AttrInput = number | string | number[] | string[] | Attribute;

/** Explicit FLOAT / FLOATS attributes, for values that happen to be integral (alpha = 1.0). */
export function floatAttr(name: string, value: number): Attribute {
  return { name, type: AttrType.FLOAT, value };
}
export function floatsAttr(name: string, value: number[]): Attribute {
  return { name, type: AttrType.FLOATS, value };
}
