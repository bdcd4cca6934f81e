/**
 * The wizard's run, on the core API (never the CLI): quantize, then evaluate and time the result
 * against the float model, and only then write the output. The AbortSignal (Ctrl-C) stops it at
 * any point with nothing written; inference runs on the Engine's worker thread.
 */
import type { Model } from '../../src/ir/model.js';
import { quantize, type OtherModeOptions } from '../../src/quantize/quantize.js';
import type { QuantizeResult } from '../../src/quantize/types.js';
import type { StaticQuantizeResult } from '../../src/quantize/static/quantize-static.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { benchmark } from '../../src/eval/benchmark.js';
import { stageModel } from '../../src/onnx/io.js';
import { modelSizeBytes } from '../../src/eval/hash.js';
import { saveLike } from '../model-save.js';
import { commitWith } from '../../src/onnx/atomic-write.js';
import { throwIfAborted } from '../../src/errors.js';
import { quantizeStep } from '../../src/recipe/quantize-recipe.js';
import { recipeFiles, stepData } from '../../src/recipe/replay.js';
import type { ProgressEvent } from '../../src/progress.js';
import { openDataset, type DataSource } from '../../src/calibrate/data/open.js';
import type { WizardChoices } from './choices.js';
import { apiOptions, EVAL_LIMIT, modeFor, pruneApiOptions, type WizardMode } from './plan.js';
import { prune } from '../../src/prune/prune.js';
import { resolvePruneOptions } from '../../src/prune/options.js';
import { pruneStep } from '../../src/recipe/prune-recipe.js';
import type { RecipeStep, StepData } from '../../src/recipe/recipe.js';
import type { QuantizeMode } from '../../src/quantize/types.js';
import type { Dataset } from '../../src/calibrate/data/dataset.js';

export const PHASES = ['quantize', 'evaluate', 'benchmark', 'write'] as const;
/** The first phase is 'prune' for goal prune. */
export type Phase = (typeof PHASES)[number] | 'prune';

export function phasesFor(mode: WizardMode): Phase[] {
  return mode === 'prune' ? ['prune', ...PHASES.slice(1)] : [...PHASES];
}

export interface RunCallbacks {
  onPhase(phase: Phase, skipped?: string): void;
  onProgress(event: ProgressEvent): void;
}

export interface Accuracy {
  metric: string;
  reference: number;
  candidate: number;
  drop: number;
  /** Random data: the numbers say how close to float the model is on noise, not how accurate it is. */
  unknown: boolean;
}

export interface RunResult {
  output: string;
  inputBytes: number;
  outputBytes: number;
  accuracy?: Accuracy;
  latency?: { referenceMs: number; candidateMs: number; speedup: number };
  /** What was done, in one line: nodes quantized and left in float, or layers/groups pruned. */
  done: string;
  /** The layers that cost most: kept in float by the budget, or the first nodes left in float with why. */
  costly: string[];
  warnings: string[];
  /** Saves the run's recipe (and its lock) that replays it without searching. */
  saveRecipe?: (path: string) => void;
}

export interface RunInput {
  model: Model;
  choices: WizardChoices;
  data: { calibration?: DataSource; evaluation?: DataSource };
  signal: AbortSignal;
}

export async function runWizard(input: RunInput, cb: RunCallbacks): Promise<RunResult> {
  const { model, choices, data, signal } = input;
  const mode = modeFor(choices.goal, model);
  // Calibration reads a path or a Dataset; random feeds become one here.
  const calibration = data.calibration === undefined || typeof data.calibration === 'string' ? data.calibration : await openDataset(data.calibration, model);
  cb.onPhase(mode === 'prune' ? 'prune' : 'quantize');
  const made = mode === 'prune'
    ? await pruneRun(model, choices, calibration, signal, cb)
    : await quantizeRun(model, mode, choices, { ...(calibration !== undefined ? { calibration } : {}), ...(data.evaluation !== undefined ? { evaluation: data.evaluation } : {}) }, signal, cb);
  const q = made.result;
  throwIfAborted(signal, 'the wizard run');

  let accuracy: Accuracy | undefined;
  if (data.evaluation !== undefined) {
    cb.onPhase('evaluate');
    const e = await evaluate(model, q.model, data.evaluation, { limit: EVAL_LIMIT, signal, onProgress: cb.onProgress });
    const p = e.primary ?? e.metrics[0];
    if (p) accuracy = { metric: p.name, reference: p.reference, candidate: p.candidate, drop: p.drop, unknown: choices.evaluation.kind === 'random' };
  } else cb.onPhase('evaluate', 'no evaluation data');

  cb.onPhase('benchmark');
  const b = await benchmark([model, q.model], { runs: 30, warmup: 5, memory: false, signal, onProgress: cb.onProgress });
  const [ref, cand] = b.rows;
  const latency = ref?.latency && cand?.latency ? { referenceMs: ref.latency.medianMs, candidateMs: cand.latency.medianMs, speedup: ref.latency.medianMs / cand.latency.medianMs } : undefined;

  throwIfAborted(signal, 'the wizard run');
  cb.onPhase('write');
  const staged = stageModel(q.model, choices.output, saveLike(model, choices.modelPath));
  commitWith([staged], []);
  const result: RunResult = {
    output: choices.output,
    inputBytes: modelSizeBytes(model, choices.modelPath),
    outputBytes: staged.result.bytes + (staged.result.externalDataBytes ?? 0),
    done: made.done,
    costly: made.costly,
    warnings: made.warnings,
  };
  if (accuracy) result.accuracy = accuracy;
  if (latency) result.latency = latency;
  // Every goal's run replays from its recipe; the lock beside it records the data it read.
  result.saveRecipe = (path: string) => {
    const files = recipeFiles(path, [made.step(stepData(path, calibration))], { model, output: q.model, data: { calibration: data.calibration, evalData: data.evaluation } });
    commitWith([], files);
  };
  return result;
}

interface Made {
  result: { model: Model };
  done: string;
  costly: string[];
  warnings: string[];
  /** The recipe step of the run, given where its data is relative to the recipe. */
  step: (data: StepData | undefined) => RecipeStep;
}

async function quantizeRun(model: Model, mode: QuantizeMode, choices: WizardChoices, data: { calibration?: Dataset | string; evaluation?: DataSource }, signal: AbortSignal, cb: RunCallbacks): Promise<Made> {
  const options = apiOptions(mode, choices, data);
  const q: QuantizeResult = await quantize(model, { ...options, signal, onProgress: cb.onProgress } as OtherModeOptions);
  const stat = q as Partial<StaticQuantizeResult>;
  // The budget's layers, most harmful first; else the nodes with weights that stayed float, and why.
  const costly = stat.budget?.keptFloat.length
    ? stat.budget.keptFloat.map((n) => `${n}: kept in float for the accuracy budget`)
    : q.summary.skipped.filter((d) => !/no weights|nothing to quantize/i.test(d.detail)).slice(0, 5).map((d) => `${d.node} (${d.op}): ${d.detail}`);
  return {
    result: q, done: `quantized ${q.summary.quantized.length} nodes, ${q.summary.skipped.length} left in float`, costly, warnings: q.summary.warnings,
    step: (d) => ({ quantize: quantizeStep(options, q, d) }),
  };
}

/** Goal prune: the same API as slimnet prune, on the wizard's signal and progress. */
async function pruneRun(model: Model, choices: WizardChoices, calibration: Dataset | string | undefined, signal: AbortSignal, cb: RunCallbacks): Promise<Made> {
  const options = pruneApiOptions(choices, calibration);
  const r = await prune(model, { ...options, signal, onProgress: cb.onProgress });
  const s = r.summary;
  const cut = s.channels ? `cut ${s.channels.groups.filter((g) => g.after < g.before).length} channel groups` : `pruned ${s.layers.length} layers`;
  return {
    result: r, done: `${cut}; weights ${s.params.nonzeroBefore} -> ${s.params.nonzeroAfter} non-zero`,
    costly: [...(s.channels?.blocked ?? []).slice(0, 5).map((b) => `${b.members[0] ?? ''}: left alone: ${b.reason}`), ...s.skipped.slice(0, 3).map((k) => `${k.node} (${k.op}): ${k.reason}`)],
    warnings: s.warnings,
    step: (d) => ({ prune: pruneStep(resolvePruneOptions(options), r.plan, d) }),
  };
}
