/**
 * The op-support table: one place that says, per op type, which inputs are weights, which axis is
 * per-output-channel, and how quantization treats the op. Quantization, pruning, inspection and
 * the speed check all read it, so they cannot drift apart.
 *
 * The `ort` entries record what ONNX Runtime 1.30's CPU EP does with a QDQ group around the op
 * (docs/research/ort-quantization-facts.md, verified on this runtime): the fused kernel, whether the
 * output Q may be missing, and the conditions that block fusion. `qoperator` names the op written
 * by `--format qoperator`.
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

/** What ONNX Runtime's CPU EP does with a DQ -> op -> Q group (level 'extended' and above). */
export interface OrtCpuFusion {
  /** The kernel the group becomes ('QLinearConv', 'com.microsoft.QLinearAdd', ...); 'drop' = the op runs on 8-bit data. */
  kernel: string;
  /** Without an output Q the group still fuses, into this float-output kernel. */
  floatOutputKernel?: string;
  /** Lowest opset version of the op the fusion applies to (MaxPool: 12). */
  minOpset?: number;
  /** 'drop' ops: the Q and DQ around the op must carry identical parameters. */
  sameParams?: boolean;
  /** 16-bit activations still fuse ('drop' rules of Reshape, Transpose, ...). */
  allows16bit?: boolean;
  /** Activations (inputs and output) must all be the same 8-bit type. */
  sameType?: boolean;
}

/** The QOperator-format op for a fused group, with its domain. */
export interface QOperatorForm {
  op: string;
  domain: '' | 'com.microsoft';
}

export interface OpSupport {
  role: QuantRole;
  /** Inputs that carry weights (quantized per channel when constant). */
  weights?: WeightInput[];
  /** Input index of a bias, quantized to int32 with scale = input scale x weight scale. */
  bias?: number;
  /** Inputs that are activations to quantize (default: input 0 only; 'all' for variadic ops such as Concat). */
  activationInputs?: number[] | 'all';
  /** Structured pruning can remove output channels of the weight on this axis. */
  prunableAxis?: number;
  /**
   * ONNX Runtime's basic graph optimizations fold this op into a producer of one of these types
   * when it is that producer's only consumer: the producer's output tensor then no longer exists.
   */
  foldsInto?: string[];
  /** ORT CPU fusion; absent means ORT has no int8 kernel for the op, so static Q/DQ around it only costs time. */
  ort?: OrtCpuFusion;
  qoperator?: QOperatorForm;
  /**
   * Data movement ORT keeps in float even between identical Q/DQ (Pad, SpaceToDepth): slimnet
   * writes the op directly on the 8-bit tensor instead, in both formats.
   */
  integerForm?: boolean;
  /** Why static int8 leaves the op in float (shown in the summary). */
  floatReason?: string;
}

const MS = 'com.microsoft' as const;

export const OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Conv: {
    role: 'weighted', weights: [{ index: 1, axis: 0 }], bias: 2, prunableAxis: 0,
    ort: { kernel: 'QLinearConv', sameType: true }, qoperator: { op: 'QLinearConv', domain: '' },
  },
  ConvTranspose: {
    role: 'weighted', weights: [{ index: 1, axis: 1 }], bias: 2, prunableAxis: 1,
    floatReason: 'ONNX Runtime has no int8 ConvTranspose kernel on CPU (Q/DQ around it would only add time)',
  },
  MatMul: {
    role: 'weighted', weights: [{ index: 1, axis: ({ rank }) => rank - 1 }], activationInputs: [0, 1], prunableAxis: -1,
    ort: { kernel: 'QLinearMatMul', floatOutputKernel: `${MS}.MatMulIntegerToFloat`, sameType: true }, qoperator: { op: 'QLinearMatMul', domain: '' },
  },
  Gemm: {
    role: 'weighted', weights: [{ index: 1, axis: ({ transB }) => (transB ? 0 : 1) }], bias: 2, prunableAxis: 0,
    ort: { kernel: `${MS}.QGemm`, floatOutputKernel: `${MS}.QGemm`, sameType: true }, qoperator: { op: 'QGemm', domain: MS },
  },
  Gather: { role: 'scale-sharing', weights: [{ index: 0, axis: 0 }], ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Reshape: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Transpose: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Flatten: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Squeeze: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Unsqueeze: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Slice: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Expand: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Tile: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  MaxPool: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, minOpset: 12 } },
  Resize: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true } },
  DepthToSpace: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true } },
  // Split drops its Q/DQ only when every output's params equal the input's.
  Split: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true } },
  Identity: { role: 'scale-sharing' },
  Concat: {
    role: 'qlinear', activationInputs: 'all',
    ort: { kernel: `${MS}.QLinearConcat`, sameType: true }, qoperator: { op: 'QLinearConcat', domain: MS },
  },
  Add: {
    role: 'qlinear', activationInputs: [0, 1],
    ort: { kernel: `${MS}.QLinearAdd`, sameType: true }, qoperator: { op: 'QLinearAdd', domain: MS },
  },
  Mul: {
    role: 'qlinear', activationInputs: [0, 1],
    ort: { kernel: `${MS}.QLinearMul`, sameType: true }, qoperator: { op: 'QLinearMul', domain: MS },
  },
  AveragePool: { role: 'qlinear', ort: { kernel: `${MS}.QLinearAveragePool`, sameType: true }, qoperator: { op: 'QLinearAveragePool', domain: MS } },
  GlobalAveragePool: {
    role: 'qlinear', ort: { kernel: `${MS}.QLinearGlobalAveragePool`, sameType: true }, qoperator: { op: 'QLinearGlobalAveragePool', domain: MS },
  },
  Sigmoid: { role: 'qlinear', ort: { kernel: `${MS}.QLinearSigmoid`, sameType: true }, qoperator: { op: 'QLinearSigmoid', domain: MS } },
  Softmax: { role: 'qlinear', ort: { kernel: `${MS}.QLinearSoftmax`, sameType: true }, qoperator: { op: 'QLinearSoftmax', domain: MS } },
  LeakyRelu: { role: 'qlinear', ort: { kernel: `${MS}.QLinearLeakyRelu`, sameType: true }, qoperator: { op: 'QLinearLeakyRelu', domain: MS } },
  // Removed by ORT when the Q after the producer saturates exactly where they clip (ReluQuantFusion, ClipQuantFusion).
  BatchNormalization: { role: 'none', foldsInto: ['Conv'], floatReason: 'ONNX Runtime has no int8 kernel for BatchNormalization on CPU' },
  Relu: { role: 'activation' },
  Clip: { role: 'activation' },
  LSTM: {
    role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }],
    floatReason: 'no static int8 LSTM kernel in ONNX Runtime (dynamic quantization writes DynamicQuantizeLSTM)',
  },
  GRU: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }], floatReason: 'no int8 GRU kernel in ONNX Runtime' },
  HardSigmoid: { role: 'none', floatReason: 'ONNX Runtime has no int8 HardSigmoid kernel and does not fold it into the producer' },
  HardSwish: { role: 'none', floatReason: 'ONNX Runtime has no int8 HardSwish kernel' },
  Tanh: { role: 'none', floatReason: 'ONNX Runtime has no int8 Tanh kernel' },
  Sub: { role: 'none', floatReason: 'ONNX Runtime has no int8 Sub kernel' },
  Div: { role: 'none', floatReason: 'ONNX Runtime has no int8 Div kernel' },
  LayerNormalization: { role: 'none', floatReason: 'ONNX Runtime has no int8 LayerNormalization kernel' },
  Pad: { role: 'scale-sharing', integerForm: true },
  SpaceToDepth: { role: 'scale-sharing', integerForm: true },
};

export function opSupport(opType: string, domain = ''): OpSupport | undefined {
  return domain === '' ? OP_SUPPORT[opType] : undefined;
}

/** The per-channel axis of a weight input for a node's attributes and the weight's rank. */
export function weightAxis(w: WeightInput, attrs: { transB?: number; rank: number }): number {
  return typeof w.axis === 'number' ? w.axis : w.axis(attrs);
}

/** Indices of the inputs of a node that are activations for quantization. */
export function activationInputIndices(support: OpSupport, inputCount: number): number[] {
  const a = support.activationInputs;
  if (a === 'all') return Array.from({ length: inputCount }, (_, i) => i);
  return a ?? [0];
}
