/**
 * A tensor constant (initializer, Constant value, attribute tensor). Storage is whatever the file
 * had (raw little-endian bytes, typed values, strings, or a reference into an external data file);
 * typed views are decoded lazily on first access and cached.
 */
import { readSync, openSync, closeSync } from 'node:fs';
import { DataType, dataTypeInfo, dataTypeName, storageBytes } from './data-type.js';
import { decodeBFloat16, decodeFloat16, decodeFloat8, encodeBFloat16, encodeFloat16, encodeFloat8, isFloat8 } from './float-formats.js';
import { packInt2, packInt4, unpackInt2, unpackInt4 } from './packed-ints.js';
import { InvalidModelError } from '../errors.js';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Where an external tensor's bytes live. */
export interface ExternalLocation {
  /** Absolute path of the data file. */
  path: string;
  /** `location` exactly as written in the model (relative to the model's directory). */
  location: string;
  offset: number;
  length: number;
  checksum?: string;
}

export type StringMap = [string, string][];

/** The element type each data type decodes to in `data()`. */
export function typedArrayFor(type: DataType, length: number): TypedArray {
  switch (type) {
    case DataType.FLOAT: return new Float32Array(length);
    case DataType.DOUBLE: return new Float64Array(length);
    case DataType.INT8: case DataType.INT4: case DataType.INT2: return new Int8Array(length);
    case DataType.INT16: return new Int16Array(length);
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return new Uint16Array(length);
    case DataType.INT32: return new Int32Array(length);
    case DataType.UINT32: return new Uint32Array(length);
    case DataType.INT64: return new BigInt64Array(length);
    case DataType.UINT64: return new BigUint64Array(length);
    case DataType.COMPLEX64: return new Float32Array(length * 2);
    case DataType.COMPLEX128: return new Float64Array(length * 2);
    default: return new Uint8Array(length); // uint8, bool, float8, uint4, uint2, float4
  }
}

function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function isSubByte(type: DataType): boolean {
  return dataTypeInfo(type).bits > 0 && dataTypeInfo(type).bits < 8;
}

export class Tensor {
  dataType: DataType;
  dims: number[];
  name: string;
  docString?: string;
  metadataProps?: StringMap;
  /** Segment information of chunked tensors (kept for round-trip; slimnet never writes it). */
  segment?: { begin: number; end: number };

  private raw?: Uint8Array;
  private typed?: TypedArray;
  private strs?: Uint8Array[];
  private ext?: ExternalLocation;

  private constructor(dataType: DataType, dims: number[], name = '') {
    this.dataType = dataType;
    this.dims = dims;
    this.name = name;
  }

  /** From little-endian bytes as in TensorProto.raw_data (the bytes are not copied). */
  static fromRaw(dataType: DataType, dims: number[], raw: Uint8Array, name = ''): Tensor {
    const t = new Tensor(dataType, dims, name);
    t.raw = raw;
    return t;
  }

  /**
   * From values of the natural typed array for the type (see `data()`): Float32Array for FLOAT,
   * Uint16Array bits for FLOAT16/BFLOAT16, one element per Int8Array/Uint8Array entry for int4.
   */
  static fromTyped(dataType: DataType, dims: number[], data: TypedArray, name = ''): Tensor {
    const n = elementCount(dims);
    const expected = dataType === DataType.COMPLEX64 || dataType === DataType.COMPLEX128 ? 2 * n : n;
    if (data.length !== expected) {
      throw new Error(`tensor ${name || '(unnamed)'}: ${data.length} values for shape [${dims.join(',')}] (${expected} expected)`);
    }
    const t = new Tensor(dataType, dims, name);
    t.typed = data;
    return t;
  }

  static fromStrings(dims: number[], values: Uint8Array[], name = ''): Tensor {
    const t = new Tensor(DataType.STRING, dims, name);
    t.strs = values;
    return t;
  }

  static external(dataType: DataType, dims: number[], ext: ExternalLocation, name = ''): Tensor {
    const t = new Tensor(dataType, dims, name);
    t.ext = ext;
    return t;
  }

  /** A FLOAT tensor; `data` may be any number array (converted to float32). */
  static float(dims: number[], data: ArrayLike<number>, name = ''): Tensor {
    return Tensor.fromTyped(DataType.FLOAT, dims, data instanceof Float32Array ? data : Float32Array.from(data), name);
  }

  static int64(dims: number[], data: ArrayLike<number> | BigInt64Array, name = ''): Tensor {
    const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(v))));
    return Tensor.fromTyped(DataType.INT64, dims, arr, name);
  }

  /**
   * Converts float32 values to any numeric type: narrow floats are rounded to nearest even,
   * integers are rounded and must already be in range (no clipping here, by design).
   */
  static fromFloat32(dataType: DataType, dims: number[], values: ArrayLike<number>, name = ''): Tensor {
    const n = values.length;
    let data: TypedArray;
    if (dataType === DataType.FLOAT16) data = encodeFloat16(values);
    else if (dataType === DataType.BFLOAT16) data = encodeBFloat16(values);
    else if (isFloat8(dataType)) data = encodeFloat8(dataType, values);
    else if (dataType === DataType.INT64 || dataType === DataType.UINT64) {
      data = typedArrayFor(dataType, n);
      for (let i = 0; i < n; i++) (data as BigInt64Array)[i] = BigInt(Math.round(values[i]!));
    } else {
      data = typedArrayFor(dataType, n);
      const round = !dataTypeInfo(dataType).isFloat;
      for (let i = 0; i < n; i++) (data as Float32Array)[i] = round ? Math.round(values[i]!) : values[i]!;
    }
    return Tensor.fromTyped(dataType, dims, data, name);
  }

  get size(): number {
    return elementCount(this.dims);
  }

  get rank(): number {
    return this.dims.length;
  }

  get isExternal(): boolean {
    return this.ext !== undefined && this.raw === undefined && this.typed === undefined;
  }

  get externalLocation(): ExternalLocation | undefined {
    return this.ext;
  }

  get isString(): boolean {
    return this.dataType === DataType.STRING;
  }

  /** Bytes this tensor takes in raw_data (strings: the sum of their lengths). */
  get byteLength(): number {
    if (this.strs) return this.strs.reduce((s, b) => s + b.length, 0);
    if (this.raw) return this.raw.length;
    if (this.ext && !this.typed) return this.ext.length;
    const n = this.size;
    return this.dataType === DataType.COMPLEX64 ? n * 8 : this.dataType === DataType.COMPLEX128 ? n * 16 : storageBytes(this.dataType, n);
  }

  strings(): Uint8Array[] {
    if (!this.strs) throw new Error(`tensor ${this.name}: not a string tensor`);
    return this.strs;
  }

  /** Raw little-endian bytes (read from the external file on first call; encoded from typed values). */
  bytes(): Uint8Array {
    if (this.raw) return this.raw;
    if (this.typed) {
      const t = this.typed;
      if (this.dataType === DataType.INT4 || this.dataType === DataType.UINT4 || this.dataType === DataType.FLOAT4E2M1) return packInt4(t as Uint8Array);
      if (this.dataType === DataType.INT2 || this.dataType === DataType.UINT2) return packInt2(t as Uint8Array);
      if (this.dataType === DataType.BOOL) {
        const out = new Uint8Array(t.length);
        for (let i = 0; i < t.length; i++) out[i] = (t as Uint8Array)[i] ? 1 : 0;
        return out;
      }
      return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    }
    if (this.ext) {
      this.raw = readExternal(this.ext, this.name);
      return this.raw;
    }
    if (this.strs) throw new Error(`tensor ${this.name}: string tensors have no raw bytes`);
    return new Uint8Array(0);
  }

  /** Points an external tensor at a new copy of its bytes (after saving external data). */
  relocate(ext: ExternalLocation | undefined): void {
    if (!ext && !this.raw && !this.typed) throw new Error(`tensor ${this.name}: cannot drop the location of unread external data`);
    this.ext = ext;
  }

  /** Drops decoded caches (and externally loaded bytes) so memory can be reclaimed. */
  release(): void {
    if (this.ext) {
      this.raw = undefined;
      this.typed = undefined;
    } else if (this.raw) {
      this.typed = undefined;
    }
  }

  /**
   * The values in the type's natural typed array (see `fromTyped`). For raw storage that is aligned
   * this is a view without copying; int4/int2 are unpacked to one element per entry.
   */
  data(): TypedArray {
    if (this.typed) return this.typed;
    if (this.strs) throw new Error(`tensor ${this.name}: string tensors have no numeric data`);
    const raw = this.bytes();
    const type = this.dataType;
    const n = this.size;
    if (isSubByte(type)) {
      const signed = dataTypeInfo(type).isSigned && type !== DataType.FLOAT4E2M1;
      this.typed = type === DataType.INT2 || type === DataType.UINT2 ? unpackInt2(raw, n, signed) : unpackInt4(raw, n, signed);
      return this.typed;
    }
    const proto = typedArrayFor(type, 0);
    const bpe = (proto as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const count = raw.length / bpe;
    if (raw.length !== storageBytes(type, n) && type !== DataType.COMPLEX64 && type !== DataType.COMPLEX128) {
      throw new InvalidModelError(
        `tensor '${this.name}' (${dataTypeName(type)}, shape [${this.dims.join(',')}]) has ${raw.length} bytes of data, ${storageBytes(type, n)} expected`,
      );
    }
    const Ctor = proto.constructor as new (buf: ArrayBufferLike, off: number, len: number) => TypedArray;
    if (raw.byteOffset % bpe === 0) {
      this.typed = new Ctor(raw.buffer, raw.byteOffset, count);
    } else {
      const copy = new Uint8Array(raw.length);
      copy.set(raw);
      this.typed = new Ctor(copy.buffer, 0, count);
    }
    return this.typed;
  }

  /** All numeric types as float32 values (float16/bfloat16/float8 decoded, integers converted). */
  toFloat32(): Float32Array {
    const type = this.dataType;
    const d = this.data();
    if (type === DataType.FLOAT) return d as Float32Array;
    if (type === DataType.FLOAT16) return decodeFloat16(d as Uint16Array);
    if (type === DataType.BFLOAT16) return decodeBFloat16(d as Uint16Array);
    if (isFloat8(type)) return decodeFloat8(type, d as Uint8Array);
    const out = new Float32Array(this.size);
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < out.length; i++) out[i] = Number(d[i]!);
    } else {
      out.set(d as ArrayLike<number>);
    }
    return out;
  }

  /** Small tensors as plain numbers (shapes, axes, scalars). int64 beyond 2^53 loses precision. */
  toNumbers(): number[] {
    const d = this.data();
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
    if (this.dataType === DataType.FLOAT16 || this.dataType === DataType.BFLOAT16 || isFloat8(this.dataType)) return Array.from(this.toFloat32());
    return Array.from(d as ArrayLike<number>);
  }

  /** A scalar's (or single element's) value. */
  scalar(): number {
    if (this.size !== 1) throw new Error(`tensor ${this.name} has ${this.size} elements, not 1`);
    return this.toNumbers()[0]!;
  }

  /** A deep copy with its own storage (external data is read). */
  clone(name = this.name): Tensor {
    if (this.strs) return Tensor.fromStrings([...this.dims], this.strs.map((s) => s.slice()), name);
    const t = Tensor.fromRaw(this.dataType, [...this.dims], this.bytes().slice(), name);
    t.docString = this.docString;
    return t;
  }

  /** Same data, new shape (no copy). */
  reshaped(dims: number[]): Tensor {
    if (elementCount(dims) !== this.size) throw new Error(`cannot reshape [${this.dims}] to [${dims}]`);
    const t = new Tensor(this.dataType, dims, this.name);
    t.raw = this.raw;
    t.typed = this.typed;
    t.strs = this.strs;
    t.ext = this.ext;
    return t;
  }

  toString(): string {
    return `Tensor(${this.name || '?'}: ${dataTypeName(this.dataType)}[${this.dims.join(',')}])`;
  }
}

/** Reads an external tensor's bytes with positioned reads, so files larger than 2 GB work. */
export function readExternal(ext: ExternalLocation, tensorName: string): Uint8Array {
  const out = new Uint8Array(ext.length);
  let fd: number;
  try {
    fd = openSync(ext.path, 'r');
  } catch (err) {
    throw new InvalidModelError(
      `external data file '${ext.location}' of tensor '${tensorName}' cannot be opened (${(err as NodeJS.ErrnoException).code ?? err}); keep it next to the model file`,
    );
  }
  try {
    const CHUNK = 1 << 30;
    let done = 0;
    while (done < ext.length) {
      const n = readSync(fd, out, done, Math.min(CHUNK, ext.length - done), ext.offset + done);
      if (n === 0) {
        throw new InvalidModelError(
          `external data file '${ext.location}' ends before tensor '${tensorName}' (needs bytes ${ext.offset}..${ext.offset + ext.length})`,
        );
      }
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
