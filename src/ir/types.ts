/** Value types: what ValueInfoProto/TypeProto describe, minus protobuf. */
import { DataType, dataTypeName } from './data-type.js';

/** A dimension: a fixed size, a symbolic name, or unknown (null). */
export type Dim = number | string | null;

export interface TensorType {
  kind: 'tensor' | 'sparse_tensor';
  elemType: DataType;
  /** undefined = rank unknown. */
  shape?: Dim[];
  /** Per-dimension denotations (kept for round-trip). */
  dimDenotations?: (string | undefined)[];
  denotation?: string;
}
export interface SequenceType { kind: 'sequence'; elem?: TypeInfo; denotation?: string }
export interface MapType { kind: 'map'; keyType: DataType; value?: TypeInfo; denotation?: string }
export interface OptionalType { kind: 'optional'; elem?: TypeInfo; denotation?: string }
export interface OpaqueType { kind: 'opaque'; domain: string; name: string; denotation?: string }
export type TypeInfo = TensorType | SequenceType | MapType | OptionalType | OpaqueType;

export function tensorType(elemType: DataType, shape?: Dim[]): TensorType {
  return shape === undefined ? { kind: 'tensor', elemType } : { kind: 'tensor', elemType, shape: [...shape] };
}

export function isTensorType(t: TypeInfo | undefined): t is TensorType {
  return t !== undefined && (t.kind === 'tensor' || t.kind === 'sparse_tensor');
}

export function formatShape(shape: Dim[] | undefined): string {
  if (!shape) return '[?]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

export function formatType(t: TypeInfo | undefined): string {
  if (!t) return '?';
  switch (t.kind) {
    case 'tensor': return `${dataTypeName(t.elemType)}${formatShape(t.shape)}`;
    case 'sparse_tensor': return `sparse ${dataTypeName(t.elemType)}${formatShape(t.shape)}`;
    case 'sequence': return `seq(${formatType(t.elem)})`;
    case 'map': return `map(${dataTypeName(t.keyType)},${formatType(t.value)})`;
    case 'optional': return `optional(${formatType(t.elem)})`;
    case 'opaque': return `opaque(${t.domain}.${t.name})`;
  }
}

export function cloneType<T extends TypeInfo | undefined>(t: T): T {
  return (t === undefined ? undefined : structuredClone(t)) as T;
}
