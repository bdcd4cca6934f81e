/**
 * Symmetric int8 quantization of a weight tensor per channel (or per tensor), the form ONNX
 * Runtime's integer kernels want for weights: zero point 0, scale = absmax / qmax per channel.
 */

export interface ChannelQuantized {
  values: Int8Array;
  /** One scale per channel (length 1 when per tensor). */
  scales: Float32Array;
}

/**
 * Quantizes `w` (row-major, shape `dims`) with one scale per index of `axis`, or one scale overall
 * when `axis` is undefined. `qmax` is 127, or 64 for reduce-range (7-bit) weights.
 */
export function quantizeSymmetric(w: Float32Array, dims: readonly number[], axis: number | undefined, qmax = 127): ChannelQuantized {
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = w.length / (channels * inner);
  const absmax = new Float32Array(channels);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let m = absmax[c]!;
      for (const end = i + inner; i < end; i++) {
        const a = Math.abs(w[i]!);
        if (a > m) m = a;
      }
      absmax[c] = m;
    }
  }
  // An all-zero channel gets scale 1 so dequantization stays finite (its values are all 0 anyway).
  const scales = absmax.map((m) => (m > 0 ? m / qmax : 1));
  const values = new Int8Array(w.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = scales[c]!;
      for (const end = i + inner; i < end; i++) {
        const q = Math.round(w[i]! / s);
        values[i] = q > qmax ? qmax : q < -qmax ? -qmax : q;
      }
    }
  }
  return { values, scales };
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d<T extends Float32Array | Int8Array | Uint8Array>(m: T, rows: number, cols: number): T {
  const out = new (m.constructor as new (n: number) => T)(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}
