/** What the wizard asks, as plain data: the steps fill it in, plan.ts turns it into API options. */
export type Goal = 'budget' | 'smallest' | 'static' | 'dynamic' | 'weight-only' | 'fp16';

export type DataChoice = { kind: 'file'; path: string } | { kind: 'random' } | { kind: 'none' };

export interface WizardChoices {
  modelPath: string;
  goal: Goal;
  calibration: DataChoice;
  evaluation: DataChoice;
  /** The accuracy budget of goal 'budget', in the metric's drop units (top-1 points with labels). */
  maxDrop: number;
  output: string;
}

export const GOALS: { value: Goal; label: string; hint: string }[] = [
  { value: 'budget', label: 'Fastest within an accuracy budget', hint: 'static int8, layers kept in float until the drop fits (--max-drop)' },
  { value: 'smallest', label: 'Smallest file', hint: 'int4 when most weights are in MatMul/Gemm (transformers), else int8' },
  { value: 'static', label: 'Static int8', hint: 'calibrated activations; int8 kernels where ONNX Runtime runs them faster' },
  { value: 'dynamic', label: 'Dynamic int8', hint: 'int8 weights, activations quantized at run time; no data needed' },
  { value: 'weight-only', label: 'Weight-only int4', hint: 'MatMul/Gemm weights in blocks of 4 bits (MatMulNBits); no data needed' },
  { value: 'fp16', label: 'FP16', hint: 'float16 weights and compute, float32 inputs and outputs' },
];
