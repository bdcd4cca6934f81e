/** What the wizard asks, as plain data: the steps fill it in, plan.ts turns it into API options. */
import type { PruneMethod } from '../../src/prune/options.js';
import type { ImagePreprocess } from '../../src/calibrate/data/images.js';

export type Goal = 'budget' | 'smallest' | 'static' | 'dynamic' | 'weight-only' | 'fp16' | 'prune';

/** Goal 'prune': how, and how much. */
export interface PruneChoice {
  method: PruneMethod;
  /** Fraction of each layer's weights (or each channel group's channels) to remove. */
  sparsity: number;
}

/** A file or directory; an image directory carries the preprocessing chosen for it. */
export type DataChoice = { kind: 'file'; path: string; preprocess?: ImagePreprocess } | { kind: 'random' } | { kind: 'none' };

export interface WizardChoices {
  modelPath: string;
  goal: Goal;
  calibration: DataChoice;
  evaluation: DataChoice;
  /** The accuracy budget of goal 'budget', in the metric's drop units (top-1 points with labels). */
  maxDrop: number;
  prune: PruneChoice;
  output: string;
}

export const GOALS: { value: Goal; label: string; hint: string }[] = [
  { value: 'budget', label: 'Fastest within an accuracy budget', hint: 'static int8, layers kept in float until the drop fits (--max-drop)' },
  { value: 'smallest', label: 'Smallest file', hint: 'int4 when most weights are in MatMul/Gemm (transformers), else int8' },
  { value: 'static', label: 'Static int8', hint: 'calibrated activations; int8 kernels where ONNX Runtime runs them faster' },
  { value: 'dynamic', label: 'Dynamic int8', hint: 'int8 weights, activations quantized at run time; no data needed' },
  { value: 'weight-only', label: 'Weight-only int4', hint: 'MatMul/Gemm weights in blocks of 4 bits (MatMulNBits); no data needed' },
  { value: 'fp16', label: 'FP16', hint: 'float16 weights and compute, float32 inputs and outputs' },
  { value: 'prune', label: 'Prune', hint: 'remove channels (faster) or zero weights, no retraining' },
];

export const PRUNE_CHOICES: { value: PruneMethod; label: string; hint: string }[] = [
  { value: 'channel', label: 'Channels', hint: 'removes whole channels and heads: smaller and faster in ONNX Runtime' },
  { value: 'magnitude', label: 'Magnitude', hint: 'zeros the smallest weights; no data; compresses, not faster' },
  { value: 'wanda', label: 'Wanda', hint: 'weights x activation norms; needs calibration data' },
  { value: 'sparsegpt', label: 'SparseGPT', hint: 'zeros and rebuilds each layer on the data; needs calibration data' },
];

/** Default sparsity per method: channel cuts cost more accuracy than zeros. */
export const DEFAULT_SPARSITY: Record<PruneMethod, number> = { channel: 0.3, magnitude: 0.5, wanda: 0.5, sparsegpt: 0.5 };
