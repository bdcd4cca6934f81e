/**
 * Blockwise weight quantization along K (the input features) of a [K, N] MatMul weight: every
 * column n is cut into blocks of `blockSize` rows, each with its own scale (and zero point when
 * asymmetric). Codes are stored unsigned and N-major (codes[n*K + k]), the layout MatMulNBits wants;
 * symmetric codes carry the implicit zero point 2^(bits-1).
 */

export interface BlockSpec {
  bits: 4 | 8;
  blockSize: number;
  symmetric: boolean;
}

export interface BlockQuantized {
  K: number;
  N: number;
  spec: BlockSpec;
  /** Unsigned codes in [0, 2^bits), N-major. */
  codes: Uint8Array;
  /** One scale per (column, block), N-major: scales[n*kBlocks + j]. */
  scales: Float32Array;
  /** Zero points, N-major like scales; undefined when symmetric (zero point 2^(bits-1)). */
  zeroPoints?: Uint8Array;
}

export function blockCount(K: number, blockSize: number): number {
  return Math.ceil(K / blockSize);
}

/** Storage for a result, to be filled block by block (RTN all at once, GPTQ as it goes). */
export function allocateBlocks(K: number, N: number, spec: BlockSpec): BlockQuantized {
  const kb = blockCount(K, spec.blockSize);
  return {
    K, N, spec,
    codes: new Uint8Array(K * N),
    scales: new Float32Array(N * kb),
    ...(spec.symmetric ? {} : { zeroPoints: new Uint8Array(N * kb) }),
  };
}

/**
 * Chooses scale and zero point of block `j` for every column from rows [k0, k1) of `w`
 * (row-major [K, N]: the current, possibly error-compensated weights).
 * Symmetric: the value of largest magnitude maps to the end of the range on its side (-8 or +7 for
 * 4 bits), so the extra negative level is not wasted. Asymmetric: [min(0, min), max(0, max)] maps to
 * [0, 2^bits - 1], so zero stays representable and the zero point is in range.
 */
export function fitBlock(w: Float32Array | Float64Array, q: BlockQuantized, j: number, k0: number, k1: number, lo: Float64Array, hi: Float64Array): void {
  const { N, spec } = q;
  const kb = blockCount(q.K, spec.blockSize);
  const qmax = (1 << spec.bits) - 1;
  const half = 1 << (spec.bits - 1);
  lo.fill(0);
  hi.fill(0);
  for (let k = k0; k < k1; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const v = w[row + n]!;
      if (v < lo[n]!) lo[n] = v;
      if (v > hi[n]!) hi[n] = v;
    }
  }
  for (let n = 0; n < N; n++) {
    const at = n * kb + j;
    if (spec.symmetric) {
      const neg = -lo[n]! >= hi[n]!;
      const mag = neg ? -lo[n]! : hi[n]!;
      q.scales[at] = mag > 0 ? mag / (neg ? half : half - 1) : 1;
    } else {
      const range = hi[n]! - lo[n]!;
      const scale = range > 0 ? range / qmax : 1;
      q.scales[at] = scale;
      const zp = Math.round(-lo[n]! / scale);
      q.zeroPoints![at] = zp < 0 ? 0 : zp > qmax ? qmax : zp;
    }
  }
}

/** The code of `x` in column n, block j. */
export function encode(q: BlockQuantized, x: number, n: number, j: number): number {
  const kb = blockCount(q.K, q.spec.blockSize);
  const qmax = (1 << q.spec.bits) - 1;
  const zp = q.zeroPoints ? q.zeroPoints[n * kb + j]! : 1 << (q.spec.bits - 1);
  const c = Math.round(x / q.scales[n * kb + j]!) + zp;
  return c < 0 ? 0 : c > qmax ? qmax : c;
}

/** The value code `c` stands for in column n, block j. */
export function decode(q: BlockQuantized, c: number, n: number, j: number): number {
  const kb = blockCount(q.K, q.spec.blockSize);
  const zp = q.zeroPoints ? q.zeroPoints[n * kb + j]! : 1 << (q.spec.bits - 1);
  return (c - zp) * q.scales[n * kb + j]!;
}

/** Round-to-nearest: every block fitted on the original weights, every value rounded independently. */
export function quantizeRtn(w: Float32Array, K: number, N: number, spec: BlockSpec): BlockQuantized {
  const q = allocateBlocks(K, N, spec);
  const lo = new Float64Array(N);
  const hi = new Float64Array(N);
  for (let j = 0, k0 = 0; k0 < K; j++, k0 += spec.blockSize) {
    const k1 = Math.min(K, k0 + spec.blockSize);
    fitBlock(w, q, j, k0, k1, lo, hi);
    for (let k = k0; k < k1; k++) for (let n = 0; n < N; n++) q.codes[n * K + k] = encode(q, w[k * N + n]!, n, j);
  }
  return q;
}

/** The dequantized weight, row-major [K, N]. */
export function dequantizeBlocks(q: BlockQuantized): Float32Array {
  const { K, N } = q;
  const out = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) out[k * N + n] = decode(q, q.codes[n * K + k]!, n, Math.floor(k / q.spec.blockSize));
  }
  return out;
}
