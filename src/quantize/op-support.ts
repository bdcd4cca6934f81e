/**
 * The op-support table: one place that says, per op type, which inputs are weights, which axis is
 * per-output-channel, and how quantization treats the op. Quantization, pruning, inspection and
 * the speed check all read it, so they cannot drift apart.
 */

export type QuantRole =
  /** Compute op with weights: per-channel int8 weights, Q/DQ on activations in and out. */
  | 'weighted'
  /** Output keeps its input's scale and zero point (data movement, max). */
  | 'scale-sharing'
  /** Has an int8 kernel in ORT (QLinearAdd, QLinearSigmoid, ...): Q/DQ on inputs and output. */
  | 'qlinear'
  /** Folded into the producer's output range (Relu, Clip). */
  | 'activation'
  /** Left in float. */
  | 'none';

export interface WeightInput {
  /** Input index of the weight. */
  index: number;
  /** Per-channel axis of the weight tensor (output channels); a function when it depends on attributes. */
  axis: number | ((attrs: { transB?: number; rank: number }) => number);
}

export interface OpSupport {
  role: QuantRole;
  /** Inputs that carry weights (quantized per channel when constant). */
  weights?: WeightInput[];
  /** Input index of a bias, quantized to int32 with scale = input scale x weight scale. */
  bias?: number;
  /** Inputs that are activations to quantize (default: input 0 only). */
  activationInputs?: number[];
  /** Structured pruning can remove output channels of the weight on this axis. */
  prunableAxis?: number;
  /**
   * ONNX Runtime's basic graph optimizations fold this op into a producer of one of these types
   * when it is that producer's only consumer: the producer's output tensor then no longer exists.
   */
  foldsInto?: string[];
}

export const OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Conv: { role: 'weighted', weights: [{ index: 1, axis: 0 }], bias: 2, prunableAxis: 0 },
  ConvTranspose: { role: 'weighted', weights: [{ index: 1, axis: 1 }], bias: 2, prunableAxis: 1 },
  MatMul: { role: 'weighted', weights: [{ index: 1, axis: ({ rank }) => rank - 1 }], activationInputs: [0, 1], prunableAxis: -1 },
  Gemm: { role: 'weighted', weights: [{ index: 1, axis: ({ transB }) => (transB ? 0 : 1) }], bias: 2, prunableAxis: 0 },
  Gather: { role: 'scale-sharing', weights: [{ index: 0, axis: 0 }] },
  Reshape: { role: 'scale-sharing' },
  Transpose: { role: 'scale-sharing' },
  Flatten: { role: 'scale-sharing' },
  Squeeze: { role: 'scale-sharing' },
  Unsqueeze: { role: 'scale-sharing' },
  MaxPool: { role: 'scale-sharing' },
  Slice: { role: 'scale-sharing' },
  Split: { role: 'scale-sharing' },
  Resize: { role: 'scale-sharing' },
  Identity: { role: 'scale-sharing' },
  Concat: { role: 'qlinear' },
  Add: { role: 'qlinear', activationInputs: [0, 1] },
  Mul: { role: 'qlinear', activationInputs: [0, 1] },
  AveragePool: { role: 'qlinear' },
  GlobalAveragePool: { role: 'qlinear' },
  Sigmoid: { role: 'qlinear' },
  Softmax: { role: 'qlinear' },
  LeakyRelu: { role: 'qlinear' },
  BatchNormalization: { role: 'none', foldsInto: ['Conv'] },
  Relu: { role: 'activation' },
  Clip: { role: 'activation' },
  LSTM: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }] },
  GRU: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }] },
};

export function opSupport(opType: string, domain = ''): OpSupport | undefined {
  return domain === '' ? OP_SUPPORT[opType] : undefined;
}
