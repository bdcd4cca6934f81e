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
   * Dynamic quantization (weights int8 ahead of time, activations quantized at run time):
   * 'matmul' becomes com.microsoft.DynamicQuantizeMatMul, 'lstm' DynamicQuantizeLSTM, 'embedding'
   * an int8 table gathered then scaled (opt-in).
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
// ORT 1.30, Zen 5): too little gain for the added error, so dynamic mode leaves Conv to static mode.
const CONV_DYNAMIC_SKIP = 'ConvInteger is no faster than fp32 Conv on CPU (measured); use --mode static for convolutions';
const FP16_INT_OUT = 'produces indices or counts: fp16 cannot hold integers above 2048 exactly';

export const OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Conv: { role: 'weighted', weights: [{ index: 1, axis: 0 }], bias: 2, prunableAxis: 0, dynamicSkip: CONV_DYNAMIC_SKIP },
  ConvTranspose: { role: 'weighted', weights: [{ index: 1, axis: 1 }], bias: 2, prunableAxis: 1, dynamicSkip: CONV_DYNAMIC_SKIP },
  MatMul: { role: 'weighted', weights: [{ index: 1, axis: ({ rank }) => rank - 1 }], activationInputs: [0, 1], prunableAxis: -1, dynamic: 'matmul', weightOnly: 'matmul' },
  Gemm: { role: 'weighted', weights: [{ index: 1, axis: ({ transB }) => (transB ? 0 : 1) }], bias: 2, prunableAxis: 0, dynamic: 'matmul', weightOnly: 'matmul' },
  Gather: { role: 'scale-sharing', weights: [{ index: 0, axis: 0 }], dynamic: 'embedding', weightOnly: 'embedding', shapeInputs: [1] },
  Reshape: { role: 'scale-sharing', shapeInputs: [1] },
  Transpose: { role: 'scale-sharing' },
  Flatten: { role: 'scale-sharing' },
  Squeeze: { role: 'scale-sharing', shapeInputs: [1] },
  Unsqueeze: { role: 'scale-sharing', shapeInputs: [1] },
  MaxPool: { role: 'scale-sharing' },
  Slice: { role: 'scale-sharing', shapeInputs: [1, 2, 3, 4] },
  Split: { role: 'scale-sharing', shapeInputs: [1] },
  // Resize's scales input is tensor(float) in every opset: it stays float32 when X becomes fp16.
  Resize: { role: 'scale-sharing', float32Inputs: [1, 2], shapeInputs: [1, 2, 3] },
  Upsample: { role: 'none', float32Inputs: [1], shapeInputs: [1] },
  Identity: { role: 'scale-sharing' },
  Concat: { role: 'qlinear' },
  Add: { role: 'qlinear', activationInputs: [0, 1] },
  Mul: { role: 'qlinear', activationInputs: [0, 1] },
  AveragePool: { role: 'qlinear' },
  GlobalAveragePool: { role: 'qlinear' },
  Sigmoid: { role: 'qlinear' },
  Softmax: { role: 'qlinear' },
  LeakyRelu: { role: 'qlinear' },
  Relu: { role: 'activation' },
  Clip: { role: 'activation' },
  LSTM: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }], dynamic: 'lstm' },
  GRU: { role: 'weighted', weights: [{ index: 1, axis: 0 }, { index: 2, axis: 0 }], dynamicSkip: 'ONNX Runtime has no dynamically quantized GRU kernel' },
  Expand: { role: 'none', shapeInputs: [1] },
  Tile: { role: 'none', shapeInputs: [1] },
  Pad: { role: 'none', shapeInputs: [1, 3] },
  ConstantOfShape: { role: 'none', shapeInputs: [0] },
  OneHot: { role: 'none', shapeInputs: [1] },
  ReduceSum: { role: 'none', shapeInputs: [1] },
  ReduceMean: { role: 'none', shapeInputs: [1] },
  ReduceMax: { role: 'none', shapeInputs: [1] },
  ReduceMin: { role: 'none', shapeInputs: [1] },
  // Kept in float32 by FP16 conversion (the list ONNX Runtime's float16 converter and
  // onnxconverter-common block, narrowed to ops that exist in ai.onnx):
  Range: { role: 'none', fp16Keep: 'Range accumulates start + i*delta: fp16 drifts and cannot count past 2048', shapeInputs: [0, 1, 2] },
  TopK: { role: 'none', fp16Keep: FP16_INT_OUT, shapeInputs: [1] },
  NonMaxSuppression: { role: 'none', fp16Keep: 'box coordinates and IoU thresholds lose precision in fp16', shapeInputs: [2] },
  RoiAlign: { role: 'none', fp16Keep: 'ROI coordinates lose precision in fp16' },
  CumSum: { role: 'none', fp16Keep: 'running sums overflow fp16', shapeInputs: [1] },
  RandomUniformLike: { role: 'none', fp16Keep: 'random ops keep their dtype' },
  RandomNormalLike: { role: 'none', fp16Keep: 'random ops keep their dtype' },
  // Quantized graphs: Q/DQ scales are float32 (the contrib CPU DequantizeLinear is float-only).
  QuantizeLinear: { role: 'none', fp16Keep: 'Q/DQ scales stay float32 (contrib CPU kernels are float-only)' },
  DequantizeLinear: { role: 'none', fp16Keep: 'Q/DQ scales stay float32 (contrib CPU kernels are float-only)' },
  DynamicQuantizeLinear: { role: 'none', fp16Keep: 'DynamicQuantizeLinear takes float32 only' },
};

/** Ops of the com.microsoft domain that the modes rewrite (ONNX Runtime's fused transformer ops). */
export const CONTRIB_OP_SUPPORT: Readonly<Record<string, OpSupport>> = {
  Attention: { role: 'weighted', weights: [{ index: 1, axis: 1 }], dynamic: 'attention' },
};

export function opSupport(opType: string, domain = ''): OpSupport | undefined {
  if (domain === '') return OP_SUPPORT[opType];
  return domain === 'com.microsoft' ? CONTRIB_OP_SUPPORT[opType] : undefined;
}
