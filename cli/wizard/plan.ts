/**
 * The wizard's choices as a plan: the quantization mode, the API options, the review lines (each
 * setting with its value and one line on why it is the default), and the equivalent command line.
 * Pure: no terminal, no runtime; the steps and the run screen read it.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { Model } from '../../src/ir/model.js';
import type { QuantizeMode } from '../../src/quantize/types.js';
import type { QuantizeOptions } from '../../src/quantize/quantize.js';
import type { DataSource } from '../../src/calibrate/data/open.js';
import type { Dataset } from '../../src/calibrate/data/dataset.js';
import type { DataChoice, Goal, WizardChoices } from './choices.js';
import type { PruneMethod, PruneOptions } from '../../src/prune/options.js';
import type { ImagePreprocess } from '../../src/calibrate/data/images.js';
import { describePreprocess, preprocessJson } from './preprocess.js';

export interface ReviewLine {
  setting: string;
  value: string;
  why: string;
}

/** A quantization mode, or pruning (goal 'prune'). */
export type WizardMode = QuantizeMode | 'prune';

export interface Plan {
  mode: WizardMode;
  review: ReviewLine[];
  /** The same run from the scripted CLI (what random data cannot be: noted in `commandNote`). */
  command: string;
  commandNote?: string;
  warnings: string[];
}

/** Samples of evaluation data the budget search and the result screen read at most. */
export const EVAL_LIMIT = 500;

/** Elements of MatMul/Gemm weights over those of MatMul/Gemm/Conv weights (0 without any). */
export function matmulWeightShare(model: Model): number {
  let matmul = 0;
  let all = 0;
  for (const node of model.graph.nodes) {
    if (!['MatMul', 'Gemm', 'Conv', 'ConvTranspose'].includes(node.opType)) continue;
    const size = node.inputs[1]?.constant?.size ?? 0;
    all += size;
    if (node.opType === 'MatMul' || node.opType === 'Gemm') matmul += size;
  }
  return all ? matmul / all : 0;
}

/** The mode a goal runs; 'smallest' depends on the model: int4 covers MatMul/Gemm weights only. */
export function modeFor(goal: Goal, model: Model): WizardMode {
  if (goal === 'budget') return 'static';
  if (goal === 'prune') return 'prune';
  if (goal !== 'smallest') return goal;
  return matmulWeightShare(model) >= 0.5 ? 'weight-only' : 'static';
}

/** Whether the run reads calibration data: static and Wanda/SparseGPT need it, channel pruning uses it (scores, reconstruction). */
export function needsCalibration(mode: WizardMode, method?: PruneMethod): boolean {
  return mode === 'static' || (mode === 'prune' && method !== 'magnitude');
}

/** Whether the run cannot go without calibration data (channel pruning can: weight norms, no refit). */
export function calibrationRequired(mode: WizardMode, method?: PruneMethod): boolean {
  return mode === 'static' || (mode === 'prune' && (method === 'wanda' || method === 'sparsegpt'));
}

const SUFFIX: Record<WizardMode, string> = { static: 'int8', dynamic: 'dyn', 'weight-only': 'int4', fp16: 'fp16', prune: 'pruned' };

/** model.onnx -> model.int8.onnx next to it. */
export function defaultOutput(modelPath: string, mode: WizardMode): string {
  const ext = extname(modelPath) || '.onnx';
  return join(dirname(modelPath), `${basename(modelPath, ext)}.${SUFFIX[mode]}${ext}`);
}

/** A path as a POSIX shell word. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const dataLabel = (d: DataChoice) => (d.kind === 'file' ? d.path : d.kind === 'random' ? 'random data (accuracy unknown)' : 'none');

const PRUNE_WHY: Record<PruneMethod, string> = {
  channel: 'whole channels cut: runs faster',
  magnitude: 'smallest weights zeroed; no data',
  wanda: 'weights x input norms on the data',
  sparsegpt: 'zeros, then each layer refitted',
};

function modeLines(mode: WizardMode, c: WizardChoices): ReviewLine[] {
  switch (mode) {
    case 'prune':
      return [
        { setting: 'mode', value: `prune: ${c.prune.method}`, why: PRUNE_WHY[c.prune.method] },
        { setting: 'sparsity', value: `${+(c.prune.sparsity * 100).toFixed(1)}%`, why: c.prune.method === 'channel' ? 'of the channels of each group' : 'of the weights of each layer' },
        ...(needsCalibration(mode, c.prune.method) ? [{ setting: 'calibration', value: dataLabel(c.calibration), why: c.prune.method === 'channel' ? 'scores channels, refits next layers' : 'activations the method weighs by' }] : []),
        { setting: 'first/last', value: 'left dense', why: 'the layers most sensitive to pruning' },
      ];
    case 'static':
      return [
        { setting: 'mode', value: 'static int8 (QDQ)', why: 'ranges from calibration; BatchNorm folded' },
        { setting: 'calibration', value: dataLabel(c.calibration), why: 'samples the int8 ranges come from (MSE)' },
        { setting: 'placement', value: 'auto', why: 'int8 only where measured faster here' },
        { setting: 'types', value: 'uint8 act / int8 wgt', why: 'U8S8: ONNX Runtime\'s fastest int8 kernels' },
        { setting: 'target', value: 'host', why: 'int8 weights exact on this CPU' },
      ];
    case 'dynamic':
      return [
        { setting: 'mode', value: 'dynamic int8', why: 'activations quantized at run time' },
        { setting: 'format', value: 'contrib', why: 'ONNX Runtime\'s fused int8 kernels' },
        { setting: 'weights', value: 'auto, per channel', why: 'no saturation on x86 without VNNI' },
      ];
    case 'weight-only':
      return [
        { setting: 'mode', value: 'weight-only int4', why: 'MatMul/Gemm/embedding weights in 4 bits' },
        { setting: 'block size', value: '32', why: 'one scale per 32 rows: the usual balance' },
        { setting: 'algorithm', value: 'rtn', why: 'round to nearest; needs no data' },
        { setting: 'accuracy level', value: '4', why: 'int8 activations inside: fastest here' },
      ];
    case 'fp16':
      return [
        { setting: 'mode', value: 'fp16', why: 'float16 weights and compute: half size' },
        { setting: 'I/O types', value: 'float32', why: 'callers keep feeding float32' },
        { setting: 'blocked ops', value: 'defaults', why: 'ops unsafe in float16 stay float32' },
      ];
  }
}

/** The options of a prune run (goal 'prune'). */
export function pruneApiOptions(c: WizardChoices, calibration: DataSource | undefined): PruneOptions {
  return { method: c.prune.method, sparsity: c.prune.sparsity, ...(calibration !== undefined ? { calibration } : {}) };
}

/** The API options of the run; `calibration` and `evaluation` are the data sources the choices resolved to. */
export function apiOptions(mode: QuantizeMode, c: WizardChoices, data: { calibration?: Dataset | string; evaluation?: DataSource }): QuantizeOptions {
  if (mode !== 'static') return { mode };
  const o: QuantizeOptions = { mode: 'static' };
  if (data.calibration !== undefined) o.calibration = data.calibration;
  if (c.goal === 'budget' && data.evaluation !== undefined) {
    o.maxDrop = c.maxDrop;
    o.evalData = data.evaluation;
    o.evalLimit = EVAL_LIMIT;
  }
  return o;
}

export function makePlan(c: WizardChoices, model: Model, options: { recipe?: string } = {}): Plan {
  const mode = modeFor(c.goal, model);
  const review: ReviewLine[] = [{ setting: 'model', value: c.modelPath, why: 'read, never changed' }, ...modeLines(mode, c)];
  const warnings: string[] = [];
  if (c.goal === 'smallest') review.splice(1, 0, { setting: 'goal', value: 'smallest', why: mode === 'weight-only' ? 'most weights in MatMul/Gemm: int4' : 'most weights in Conv: int8 (int4: MatMul)' });
  if (c.goal === 'budget') {
    review.push({ setting: 'max drop', value: String(c.maxDrop), why: 'top-1 points (labels) or % disagreement' });
    review.push({ setting: 'eval limit', value: String(EVAL_LIMIT), why: 'samples each candidate is scored on' });
  }
  review.push({ setting: 'evaluation', value: dataLabel(c.evaluation), why: c.evaluation.kind === 'none' ? 'none: size and speed only' : 'accuracy and speed against float' });
  const images = [c.calibration, c.evaluation].find((d) => d.kind === 'file' && d.preprocess) as { preprocess: ImagePreprocess } | undefined;
  if (images) review.push({ setting: 'images', value: describePreprocess(images.preprocess), why: 'resize, crop, scale, mean/std as chosen' });
  review.push({ setting: 'output', value: c.output, why: 'written only if every step succeeds' });
  if (c.calibration.kind === 'random' || c.evaluation.kind === 'random') warnings.push('Random data: the model runs, but its accuracy is unknown. Give real samples to know it.');

  const words = mode === 'prune'
    ? ['slimnet', 'prune', c.modelPath, '-o', c.output, '--method', c.prune.method, '--sparsity', String(c.prune.sparsity)]
    : ['slimnet', 'quantize', c.modelPath, '-o', c.output];
  if (mode !== 'static' && mode !== 'prune') words.push('--mode', mode);
  if (needsCalibration(mode, c.prune.method) && c.calibration.kind === 'file') words.push('--calib', c.calibration.path);
  if (c.goal === 'budget' && c.evaluation.kind === 'file') words.push('--max-drop', String(c.maxDrop), '--eval-data', c.evaluation.path, '--eval-limit', String(EVAL_LIMIT));
  if (options.recipe) words.push('--save-recipe', options.recipe);
  const plan: Plan = { mode, review, command: words.map(shellQuote).join(' '), warnings };
  const randomUsed = (needsCalibration(mode, c.prune.method) && c.calibration.kind === 'random') || (c.goal === 'budget' && c.evaluation.kind === 'random');
  if (randomUsed) plan.commandNote = 'the CLI has no random data: give --calib (and --eval-data) a data file';
  else if (images) plan.commandNote = `${words[1]} reads image directories as pixels in [0, 1] at the model's size; these steps are --preprocess '${preprocessJson(images.preprocess)}' of slimnet calibrate and eval`;
  return plan;
}
