/**
 * Sub-byte integers (int4/uint4, int2/uint2). ONNX packs them little-end first: element 2i sits in the
 * low nibble of byte i, element 2i+1 in the high nibble.
 */
export function packInt4(values: ArrayLike<number>, out = new Uint8Array(Math.ceil(values.length / 2))): Uint8Array {
  const n = values.length;
  for (let i = 0, b = 0; i < n; i += 2, b++) {
    const lo = values[i]! & 0x0f;
    const hi = i + 1 < n ? values[i + 1]! & 0x0f : 0;
    out[b] = lo | (hi << 4);
  }
  return out;
}

export function unpackInt4(bytes: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const byte = bytes[i >> 1]!;
    let v = i & 1 ? byte >> 4 : byte & 0x0f;
    if (signed && v > 7) v -= 16;
    out[i] = v;
  }
  return out;
}

export function packInt2(values: ArrayLike<number>, out = new Uint8Array(Math.ceil(values.length / 4))): Uint8Array {
  out.fill(0);
  for (let i = 0; i < values.length; i++) out[i >> 2]! |= (values[i]! & 3) << ((i & 3) * 2);
  return out;
}

export function unpackInt2(bytes: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let v = (bytes[i >> 2]! >> ((i & 3) * 2)) & 3;
    if (signed && v > 1) v -= 4;
    out[i] = v;
  }
  return out;
}
