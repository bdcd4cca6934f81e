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
  /**
   * Dynamic quantization (weights int8 ahead of time, activations quantized at run time):
   * 'matmul' becomes com.microsoft.DynamicQuantizeMatMul, 'lstm' DynamicQuantizeLSTM, 'attention'
   * QAttention, 'embedding' an int8 table gathered then scaled (opt-in).
   */
  dynamic?: 'matmul' | 'lstm' | 'embedding' | 'attention';
  /** Why dynamic mode leaves this op in float although it has weights (measured or no kernel). */
  dynamicSkip?: string;
  /**
   * Weight-only quantization: 'matmul' weights become com.microsoft.MatMulNBits (or blocked
   * DequantizeLinear), 'embedding' tables com.microsoft.GatherBlockQuantized (opt-in).
   */
  weightOnly?: 'matmul' | 'embedding';
  /** FP16 conversion keeps the op in float32, for this reason. */
  fp16Keep?: string;
  /** FP16 conversion: float inputs the op's schema requires in float32 (Resize scales). */
  float32Inputs?: number[];
  /** Inputs that carry shapes, sizes, axes or counts: fp16 keeps float arithmetic that feeds them in float32. */
  shapeInputs?: number[];
}

// ConvInteger (dynamic Conv) measured 0.99 ms vs 1.07 ms for fp32 Conv (64->64, 3x3, 56x56, 1 thread,
// ORT 1.30, Zen 5) and 0.16x-0.4x float on whole ResNets: dynamic mode computes Conv in float and
// stores its weight in int8 (quantize/dynamic/conv-storage.ts); this is the reason when it cannot.
const CONV_DYNAMIC_SKIP = 'computes in float (ConvInteger is slower than float Conv on CPU); its weight stays float (under 128 values, or not a float constant); --mode static makes convolutions int8';
const FP16_INT_OUT = 'produces indices or counts: fp16 cannot hold integers above 2048 exactly';
/** Static int8's reason for ops listed here only for the other modes. */
const noInt8 = (op: string) => `ONNX Runtime has no int8 kernel for ${op} on CPU`;

const MS = 'com.microsoft' as const;

export const OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Conv: {
    role: 'weighted', weights: [{ index: 1, axis: 0 }], bias: 2, prunableAxis: 0,
    ort: { kernel: 'QLinearConv', sameType: true }, qoperator: { op: 'QLinearConv', domain: '' }, dynamicSkip: CONV_DYNAMIC_SKIP,
  },
  ConvTranspose: {
    role: 'weighted', weights: [{ index: 1, axis: 1 }], bias: 2, prunableAxis: 1,
    floatReason: 'ONNX Runtime has no int8 ConvTranspose kernel on CPU (Q/DQ around it would only add time)', dynamicSkip: CONV_DYNAMIC_SKIP,
  },
  MatMul: {
    role: 'weighted', weights: [{ index: 1, axis: ({ rank }) => rank - 1 }], activationInputs: [0, 1], prunableAxis: -1,
    ort: { kernel: 'QLinearMatMul', floatOutputKernel: `${MS}.MatMulIntegerToFloat`, sameType: true }, qoperator: { op: 'QLinearMatMul', domain: '' }, dynamic: 'matmul', weightOnly: 'matmul',
  },
  Gemm: {
    role: 'weighted', weights: [{ index: 1, axis: ({ transB }) => (transB ? 0 : 1) }], bias: 2, prunableAxis: 0,
    ort: { kernel: `${MS}.QGemm`, floatOutputKernel: `${MS}.QGemm`, sameType: true }, qoperator: { op: 'QGemm', domain: MS }, dynamic: 'matmul', weightOnly: 'matmul',
  },
  Gather: { role: 'scale-sharing', weights: [{ index: 0, axis: 0 }], ort: { kernel: 'drop', sameParams: true, allows16bit: true }, dynamic: 'embedding', weightOnly: 'embedding', shapeInputs: [1] },
  Reshape: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1] },
  Transpose: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Flatten: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true } },
  Squeeze: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1] },
  Unsqueeze: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1] },
  Slice: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1, 2, 3, 4] },
  Expand: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1] },
  Tile: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, allows16bit: true }, shapeInputs: [1] },
  MaxPool: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true, minOpset: 12 } },
  Resize: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true }, float32Inputs: [1, 2], shapeInputs: [1, 2, 3] },
  DepthToSpace: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true } },
  // Split drops its Q/DQ only when every output's params equal the input's.
  Split: { role: 'scale-sharing', ort: { kernel: 'drop', sameParams: true }, shapeInputs: [1] },
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
    floatReason: 'no static int8 LSTM kernel in ONNX Runtime (dynamic quantization writes DynamicQuantizeLSTM)', dynamic: 'lstm',
  },
  GRU: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }], floatReason: 'no int8 GRU kernel in ONNX Runtime', dynamicSkip: 'ONNX Runtime has no dynamically quantized GRU kernel' },
  HardSigmoid: { role: 'none', floatReason: 'ONNX Runtime has no int8 HardSigmoid kernel and does not fold it into the producer' },
  HardSwish: { role: 'none', floatReason: 'ONNX Runtime has no int8 HardSwish kernel' },
  Tanh: { role: 'none', floatReason: 'ONNX Runtime has no int8 Tanh kernel' },
  Sub: { role: 'none', floatReason: 'ONNX Runtime has no int8 Sub kernel' },
  Div: { role: 'none', floatReason: 'ONNX Runtime has no int8 Div kernel' },
  LayerNormalization: { role: 'none', floatReason: 'ONNX Runtime has no int8 LayerNormalization kernel' },
  Pad: { role: 'scale-sharing', integerForm: true, shapeInputs: [1, 3] },
  SpaceToDepth: { role: 'scale-sharing', integerForm: true },
  // Listed for the other modes only (static int8 has no kernel for them):
  // Resize's scales input is tensor(float) in every opset, so it stays float32 when X becomes fp16.
  Upsample: { role: 'none', floatReason: noInt8('Upsample'), float32Inputs: [1], shapeInputs: [1] },
  ConstantOfShape: { role: 'none', floatReason: noInt8('ConstantOfShape'), shapeInputs: [0] },
  OneHot: { role: 'none', floatReason: noInt8('OneHot'), shapeInputs: [1] },
  ReduceSum: { role: 'none', floatReason: noInt8('ReduceSum'), shapeInputs: [1] },
  ReduceMean: { role: 'none', floatReason: noInt8('ReduceMean'), shapeInputs: [1] },
  ReduceMax: { role: 'none', floatReason: noInt8('ReduceMax'), shapeInputs: [1] },
  ReduceMin: { role: 'none', floatReason: noInt8('ReduceMin'), shapeInputs: [1] },
  // Kept in float32 by FP16 conversion (the list ONNX Runtime's float16 converter and
  // onnxconverter-common block, narrowed to ops that exist in ai.onnx):
  Range: { role: 'none', floatReason: noInt8('Range'), fp16Keep: 'Range accumulates start + i*delta: fp16 drifts and cannot count past 2048', shapeInputs: [0, 1, 2] },
  TopK: { role: 'none', floatReason: noInt8('TopK'), fp16Keep: FP16_INT_OUT, shapeInputs: [1] },
  NonMaxSuppression: { role: 'none', floatReason: noInt8('NonMaxSuppression'), fp16Keep: 'box coordinates and IoU thresholds lose precision in fp16', shapeInputs: [2] },
  RoiAlign: { role: 'none', floatReason: noInt8('RoiAlign'), fp16Keep: 'ROI coordinates lose precision in fp16' },
  CumSum: { role: 'none', floatReason: noInt8('CumSum'), fp16Keep: 'running sums overflow fp16', shapeInputs: [1] },
  RandomUniformLike: { role: 'none', floatReason: noInt8('RandomUniformLike'), fp16Keep: 'random ops keep their dtype' },
  RandomNormalLike: { role: 'none', floatReason: noInt8('RandomNormalLike'), fp16Keep: 'random ops keep their dtype' },
  // Quantized graphs: Q/DQ scales are float32 (the contrib CPU DequantizeLinear is float-only).
  QuantizeLinear: { role: 'none', fp16Keep: 'Q/DQ scales stay float32 (contrib CPU kernels are float-only)' },
  DequantizeLinear: { role: 'none', fp16Keep: 'Q/DQ scales stay float32 (contrib CPU kernels are float-only)' },
  DynamicQuantizeLinear: { role: 'none', fp16Keep: 'DynamicQuantizeLinear takes float32 only' },
};

/** Ops of the com.microsoft domain that the modes rewrite (ONNX Runtime's fused transformer ops). */
export const CONTRIB_OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Attention: {
    role: 'weighted', weights: [{ index: 1, axis: 1 }], dynamic: 'attention',
    floatReason: 'static int8 does not quantize the fused Attention: --mode dynamic turns it into QAttention',
  },
};

export function opSupport(opType: string, domain = ''): OpSupport | undefined {
  if (domain === '') return OP_SUPPORT[opType];
  return domain === 'com.microsoft' ? CONTRIB_OP_SUPPORT[opType] : undefined;
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
