/**
 * Block-quantized weights in the two forms ONNX Runtime runs:
 * - com.microsoft.MatMulNBits: B uint8 [N, kBlocks, blockSize*bits/8] (N-major, K packed within
 *   each block, 4-bit values low nibble first), scales [N*kBlocks], zero points packed the same way
 *   per row of N (omitted when symmetric: the op's default zero point is 2^(bits-1));
 * - blocked DequantizeLinear (ai.onnx opset 21): x [K, N] int4/uint4/int8/uint8, scale and zero
 *   point [kBlocks, N], axis 0, block_size. ORT fuses DequantizeLinear -> MatMul into MatMulNBits.
 */
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { blockCount, type BlockQuantized } from './block-quant.js';

export interface NBitsTensors {
  B: Tensor;
  scales: Tensor;
  zeroPoints?: Tensor;
}

/** Packs per-row lists of `count` unsigned codes (bits 4 or 8) into `bytesPerRow` bytes per row. */
function packRows(codes: Uint8Array, rows: number, count: number, stride: number, bits: number, bytesPerRow: number, pad: number): Uint8Array {
  const out = new Uint8Array(rows * bytesPerRow);
  for (let r = 0; r < rows; r++) {
    const src = r * stride;
    const dst = r * bytesPerRow;
    if (bits === 8) {
      out.set(codes.subarray(src, src + count), dst);
      out.fill(pad, dst + count, dst + bytesPerRow);
      continue;
    }
    for (let i = 0; i < bytesPerRow * 2; i += 2) {
      const a = i < count ? codes[src + i]! : pad;
      const b = i + 1 < count ? codes[src + i + 1]! : pad;
      out[dst + (i >> 1)] = (a & 0x0f) | ((b & 0x0f) << 4);
    }
  }
  return out;
}

export function toMatMulNBits(q: BlockQuantized): NBitsTensors {
  const { K, N, spec } = q;
  const kb = blockCount(K, spec.blockSize);
  const blob = (spec.blockSize * spec.bits) / 8;
  const half = 1 << (spec.bits - 1);
  // Codes of one column are contiguous (N-major); padding past K uses the zero point so it decodes to 0.
  const B = packRows(q.codes, N, K, K, spec.bits, kb * blob, half);
  const out: NBitsTensors = {
    B: Tensor.fromTyped(DataType.UINT8, [N, kb, blob], B),
    scales: Tensor.fromTyped(DataType.FLOAT, [N * kb], q.scales),
  };
  if (q.zeroPoints) {
    const zpBytes = Math.ceil((kb * spec.bits) / 8);
    out.zeroPoints = Tensor.fromTyped(DataType.UINT8, [N * zpBytes], packRows(q.zeroPoints, N, kb, kb, spec.bits, zpBytes, half));
  }
  return out;
}

export interface BlockedDqTensors {
  x: Tensor;
  scale: Tensor;
  zeroPoint?: Tensor;
}

export function toBlockedDequantizeLinear(q: BlockQuantized): BlockedDqTensors {
  const { K, N, spec } = q;
  const kb = blockCount(K, spec.blockSize);
  const half = 1 << (spec.bits - 1);
  const signed = !q.zeroPoints;
  const x = signed ? new Int8Array(K * N) : new Uint8Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) x[k * N + n] = q.codes[n * K + k]! - (signed ? half : 0);
  const scale = new Float32Array(kb * N);
  for (let n = 0; n < N; n++) for (let j = 0; j < kb; j++) scale[j * N + n] = q.scales[n * kb + j]!;
  const type = spec.bits === 4 ? (signed ? DataType.INT4 : DataType.UINT4) : signed ? DataType.INT8 : DataType.UINT8;
  const out: BlockedDqTensors = { x: Tensor.fromTyped(type, [K, N], x), scale: Tensor.fromTyped(DataType.FLOAT, [kb, N], scale) };
  if (q.zeroPoints) {
    const zp = new Uint8Array(kb * N);
    for (let n = 0; n < N; n++) for (let j = 0; j < kb; j++) zp[j * N + n] = q.zeroPoints[n * kb + j]!;
    out.zeroPoint = Tensor.fromTyped(type, [kb, N], zp);
  }
  return out;
}
