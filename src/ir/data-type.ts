/** ONNX tensor element types. The numbers are TensorProto.DataType values from the ONNX spec. */
export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
}

export interface DataTypeInfo {
  /** Lower-case name as ONNX Runtime spells tensor types ('float', 'int8', 'float16', ...). */
  readonly name: string;
  /** Bits per element in raw_data (4 for int4, 2 for int2; strings: 0). */
  readonly bits: number;
  readonly isFloat: boolean;
  readonly isInteger: boolean;
  readonly isSigned: boolean;
}

const INFO: Record<number, DataTypeInfo> = {
  [DataType.UNDEFINED]: { name: 'undefined', bits: 0, isFloat: false, isInteger: false, isSigned: false },
  [DataType.FLOAT]: { name: 'float32', bits: 32, isFloat: true, isInteger: false, isSigned: true },
  [DataType.UINT8]: { name: 'uint8', bits: 8, isFloat: false, isInteger: true, isSigned: false },
  [DataType.INT8]: { name: 'int8', bits: 8, isFloat: false, isInteger: true, isSigned: true },
  [DataType.UINT16]: { name: 'uint16', bits: 16, isFloat: false, isInteger: true, isSigned: false },
  [DataType.INT16]: { name: 'int16', bits: 16, isFloat: false, isInteger: true, isSigned: true },
  [DataType.INT32]: { name: 'int32', bits: 32, isFloat: false, isInteger: true, isSigned: true },
  [DataType.INT64]: { name: 'int64', bits: 64, isFloat: false, isInteger: true, isSigned: true },
  [DataType.STRING]: { name: 'string', bits: 0, isFloat: false, isInteger: false, isSigned: false },
  [DataType.BOOL]: { name: 'bool', bits: 8, isFloat: false, isInteger: false, isSigned: false },
  [DataType.FLOAT16]: { name: 'float16', bits: 16, isFloat: true, isInteger: false, isSigned: true },
  [DataType.DOUBLE]: { name: 'float64', bits: 64, isFloat: true, isInteger: false, isSigned: true },
  [DataType.UINT32]: { name: 'uint32', bits: 32, isFloat: false, isInteger: true, isSigned: false },
  [DataType.UINT64]: { name: 'uint64', bits: 64, isFloat: false, isInteger: true, isSigned: false },
  [DataType.COMPLEX64]: { name: 'complex64', bits: 64, isFloat: false, isInteger: false, isSigned: true },
  [DataType.COMPLEX128]: { name: 'complex128', bits: 128, isFloat: false, isInteger: false, isSigned: true },
  [DataType.BFLOAT16]: { name: 'bfloat16', bits: 16, isFloat: true, isInteger: false, isSigned: true },
  [DataType.FLOAT8E4M3FN]: { name: 'float8e4m3fn', bits: 8, isFloat: true, isInteger: false, isSigned: true },
  [DataType.FLOAT8E4M3FNUZ]: { name: 'float8e4m3fnuz', bits: 8, isFloat: true, isInteger: false, isSigned: true },
  [DataType.FLOAT8E5M2]: { name: 'float8e5m2', bits: 8, isFloat: true, isInteger: false, isSigned: true },
  [DataType.FLOAT8E5M2FNUZ]: { name: 'float8e5m2fnuz', bits: 8, isFloat: true, isInteger: false, isSigned: true },
  [DataType.UINT4]: { name: 'uint4', bits: 4, isFloat: false, isInteger: true, isSigned: false },
  [DataType.INT4]: { name: 'int4', bits: 4, isFloat: false, isInteger: true, isSigned: true },
  [DataType.FLOAT4E2M1]: { name: 'float4e2m1', bits: 4, isFloat: true, isInteger: false, isSigned: true },
  [DataType.FLOAT8E8M0]: { name: 'float8e8m0', bits: 8, isFloat: true, isInteger: false, isSigned: false },
  [DataType.UINT2]: { name: 'uint2', bits: 2, isFloat: false, isInteger: true, isSigned: false },
  [DataType.INT2]: { name: 'int2', bits: 2, isFloat: false, isInteger: true, isSigned: true },
};

export function dataTypeInfo(type: number): DataTypeInfo {
  const info = INFO[type];
  if (!info) return { name: `unknown(${type})`, bits: 0, isFloat: false, isInteger: false, isSigned: false };
  return info;
}

export function dataTypeName(type: number): string {
  return dataTypeInfo(type).name;
}

const BY_NAME = new Map<string, DataType>();
for (const [k, v] of Object.entries(INFO)) BY_NAME.set(v.name, Number(k) as DataType);
BY_NAME.set('float', DataType.FLOAT);
BY_NAME.set('double', DataType.DOUBLE);

/** Parses 'float32', 'float', 'int8', ... (ONNX Runtime's tensor type names). */
export function dataTypeFromName(name: string): DataType | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Bytes needed to store `count` elements of `type` in raw_data (sub-byte types are packed). */
export function storageBytes(type: number, count: number): number {
  const bits = dataTypeInfo(type).bits;
  return Math.ceil((count * bits) / 8);
}

/** Integer range [min, max] of an integer type (as numbers; int64 is approximated). */
export function integerRange(type: number): [number, number] {
  switch (type) {
    case DataType.UINT8: return [0, 255];
    case DataType.INT8: return [-128, 127];
    case DataType.UINT16: return [0, 65535];
    case DataType.INT16: return [-32768, 32767];
    case DataType.INT32: return [-2147483648, 2147483647];
    case DataType.UINT32: return [0, 4294967295];
    case DataType.UINT4: return [0, 15];
    case DataType.INT4: return [-8, 7];
    case DataType.UINT2: return [0, 3];
    case DataType.INT2: return [-2, 1];
    case DataType.INT64: return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    case DataType.UINT64: return [0, Number.MAX_SAFE_INTEGER];
    default: throw new Error(`${dataTypeName(type)} is not an integer type`);
  }
}
