/**
 * How each op treats a channel axis, for structured pruning: the part of the op table that says
 * which ops let a channel pass through unchanged, which join channels across inputs, which carry
 * per-channel parameters, and which move, split or merge axes. Ops not listed here are never
 * trusted: channel pruning leaves alone every channel that reaches them. Weight axes come from the
 * op-support table (op-support.ts: `weights`, `prunableAxis`).
 */

export type ChannelFlow =
  /** One activation in, same shape out, position by position (extra inputs are scalars or constants). */
  | 'unary'
  /** Elementwise over broadcast inputs: the channels of activation inputs are joined; constants are sliced. */
  | 'elementwise'
  /** Normalizes each channel with per-channel parameters (inputs 1.. along axis 0). */
  | 'channel-norm'
  /** Normalizes over the axes from `axis` on: a channel axis there blocks. */
  | 'layer-norm'
  /** Pools the spatial axes; channels pass. */
  | 'pool'
  /** Changes spatial sizes by constant scales or sizes; channels pass where the scale is 1. */
  | 'resize'
  | 'pad'
  | 'transpose'
  | 'reshape'
  | 'flatten'
  | 'squeeze'
  | 'unsqueeze'
  | 'concat'
  | 'split'
  | 'slice'
  | 'gather'
  /** Reduces the axes listed: reducing a channel axis blocks. */
  | 'reduce'
  /** Normalizes along one axis (Softmax): that axis blocks. */
  | 'axis-op'
  /** A Conv, ConvTranspose, Gemm or MatMul: consumes its input channels, produces new ones. */
  | 'weighted'
  /** Reads the shape of its input: any tracked channel blocks. */
  | 'shape';

const UNARY = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish', 'Gelu',
  'Erf', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'ThresholdedRelu',
  'Identity', 'Dropout', 'Cast', 'Clip', 'Not', 'IsNaN', 'IsInf',
] as const;
const ELEMENTWISE = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Mod', 'BitShift'] as const;
const POOL = ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool'] as const;
const REDUCE = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'] as const;
const AXIS_OPS = ['Softmax', 'LogSoftmax', 'Hardmax', 'ArgMax', 'ArgMin', 'CumSum', 'LpNormalization'] as const;

export const CHANNEL_FLOW: Readonly<Record<string, ChannelFlow>> = {
  ...Object.fromEntries(UNARY.map((op) => [op, 'unary'])),
  ...Object.fromEntries(ELEMENTWISE.map((op) => [op, 'elementwise'])),
  ...Object.fromEntries(POOL.map((op) => [op, 'pool'])),
  ...Object.fromEntries(REDUCE.map((op) => [op, 'reduce'])),
  ...Object.fromEntries(AXIS_OPS.map((op) => [op, 'axis-op'])),
  BatchNormalization: 'channel-norm',
  InstanceNormalization: 'channel-norm',
  LayerNormalization: 'layer-norm',
  Resize: 'resize',
  Upsample: 'resize',
  Pad: 'pad',
  Transpose: 'transpose',
  Reshape: 'reshape',
  Flatten: 'flatten',
  Squeeze: 'squeeze',
  Unsqueeze: 'unsqueeze',
  Concat: 'concat',
  Split: 'split',
  Slice: 'slice',
  Gather: 'gather',
  Conv: 'weighted',
  ConvTranspose: 'weighted',
  Gemm: 'weighted',
  MatMul: 'weighted',
  Shape: 'shape',
  Size: 'shape',
};

/** The channel flow of a node's op (default domain only), or undefined when channels may not pass it. */
export function channelFlow(opType: string, domain = ''): ChannelFlow | undefined {
  return domain === '' ? CHANNEL_FLOW[opType] : undefined;
}
