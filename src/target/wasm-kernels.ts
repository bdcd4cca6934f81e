/**
 * Int8 kernels that onnxruntime-web's wasm backend runs slower than float, measured op class by op
 * class (docs/research/ort-web-wasm.md sections 6-8, 1 thread): its int8 GEMM re-packs constant
 * weights on every run and its depthwise, pooling and requantization loops have no SIMD path. The
 * quantizer keeps these ops in float for `--target wasm`; timing in onnxruntime-web then decides
 * among what remains (and writes float compute when nothing is faster, as everywhere).
 */
import type { Node } from '../ir/node.js';

/** Reduction length below which an int8 convolution does not pay in wasm (K 32-63: 0.95x; < 32: 0.3-0.5x). */
const MIN_CONV_REDUCTION = 64;

/** Rows of a matrix product's input A at batch 1, or undefined when its shape is not known. */
function rows(node: Node): number | undefined {
  const shape = node.input(0)?.shape;
  if (!shape || shape.length < 2) return undefined;
  let n = 1;
  for (const [i, d] of shape.slice(0, -1).entries()) {
    if (typeof d === 'number') n *= d;
    else if (i !== 0) return undefined; // a symbolic first axis is the batch: 1 here
  }
  return n;
}

/** Why `node` should stay in float for the wasm target, or undefined when int8 can pay there. */
export function wasmFloatReason(node: Node): string | undefined {
  switch (node.opType) {
    case 'Conv': {
      const w = node.input(1)?.constant;
      if (!w || w.rank < 3) return undefined;
      if (node.getInt('group', 1) > 1 && w.dims[1] === 1) return 'target wasm: depthwise int8 convolutions run a scalar loop in onnxruntime-web (0.34x float, measured)';
      const k = w.dims.slice(1).reduce((a, b) => a * b, 1);
      return k < MIN_CONV_REDUCTION ? `target wasm: a reduction of ${k} (< ${MIN_CONV_REDUCTION}) is too short for onnxruntime-web's int8 convolution (0.3-0.95x float, measured)` : undefined;
    }
    case 'Gemm':
    case 'MatMul': {
      // Gemm's A is [M, K] with M the batch; a MatMul's rows are its A's leading dimensions.
      const m = node.opType === 'Gemm' ? 1 : rows(node);
      return m === 1 ? "target wasm: a one-row matrix product re-packs its int8 weights on every run in onnxruntime-web (0.3-0.6x float, measured)" : undefined;
    }
    case 'LSTM':
      return 'target wasm: DynamicQuantizeLSTM is 0.58x float in onnxruntime-web at batch 1 (measured)';
    case 'MaxPool':
      return 'target wasm: MaxPool on uint8 is 0.18x float in onnxruntime-web (measured)';
    case 'AveragePool':
    case 'Softmax':
      return `target wasm: onnxruntime-web's int8 ${node.opType} is slower than float (0.56-0.69x, measured)`;
    default:
      return undefined;
  }
}
