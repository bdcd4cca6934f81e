/**
 * MatMul and Gemm seen as one thing: y = A x W + bias with a constant W of shape [K, N]. Dynamic
 * and weight-only quantization both start from this view (Gemm's transB and alpha/beta folded in).
 */
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { DataType, dataTypeName } from '../ir/data-type.js';
import { transpose2d } from './channel-quant.js';

export interface LinearOp {
  node: Node;
  /** The activation input A. */
  input: Value;
  /** The constant weight as stored in the model. */
  weightValue: Value;
  K: number;
  N: number;
  /** Identifies the transformed weight, so a weight shared by several nodes is quantized once. */
  weightKey: string;
  /** The weight as row-major [K, N] float32 (a transposed copy for Gemm transB=1, scaled by alpha). */
  weight(): Float32Array;
  /** Gemm's C times beta, when C is a constant vector of N values. */
  bias?: Float32Array;
}

/** The linear view of a MatMul or Gemm, or the reason it has none. */
export function analyzeLinear(node: Node): LinearOp | string {
  if (node.domain !== '' || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) return `${node.opType} is not a MatMul or Gemm`;
  const a = node.input(0);
  const b = node.input(1);
  const w = b?.constant;
  if (!a || !b) return 'missing input';
  if (!w) {
    if (b.producer?.opType === 'DequantizeLinear') return 'already quantized: its weight comes from a DequantizeLinear';
    return a.constant
      ? 'the constant operand is A (left side); only a constant right-hand weight can be quantized'
      : 'both inputs are activations (e.g. attention scores): there is no weight to quantize ahead of time';
  }
  if (w.dataType !== DataType.FLOAT) return `weight is ${dataTypeName(w.dataType)}, not float32`;
  if (w.dims.length !== 2) return `weight has rank ${w.dims.length}; only 2-D weights [K, N] are supported`;
  if (a.shape && a.shape.length < 2) return 'input A is 1-D';
  if (node.opType === 'MatMul') {
    const [K, N] = w.dims as [number, number];
    return { node, input: a, weightValue: b, K, N, weightKey: 'matmul', weight: () => w.toFloat32() };
  }
  if (node.getInt('transA', 0) !== 0) return 'Gemm with transA=1 (the input is transposed) is not supported';
  const transB = node.getInt('transB', 0) !== 0;
  const alpha = node.getFloat('alpha', 1);
  const beta = node.getFloat('beta', 1);
  const [K, N] = (transB ? [w.dims[1], w.dims[0]] : w.dims) as [number, number];
  const op: LinearOp = {
    node, input: a, weightValue: b, K, N,
    weightKey: `gemm:${transB ? 'T' : 'N'}:${alpha}`,
    weight: () => {
      const raw = w.toFloat32();
      const kn = transB ? transpose2d(raw, N, K) : alpha !== 1 ? Float32Array.from(raw) : raw;
      if (alpha !== 1) for (let i = 0; i < kn.length; i++) kn[i]! *= alpha;
      return kn;
    },
  };
  const c = node.input(2);
  if (c) {
    const ct = c.constant;
    if (!ct || ct.dataType !== DataType.FLOAT || ct.size !== N || (ct.dims.length > 0 && ct.dims[ct.dims.length - 1] !== N)) {
      return 'Gemm bias C is not a constant vector of N values';
    }
    const bias = Float32Array.from(ct.toFloat32());
    if (beta !== 1) for (let i = 0; i < N; i++) bias[i]! *= beta;
    op.bias = bias;
  }
  return op;
}
