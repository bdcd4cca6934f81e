/**
 * The pipeline steps that write a model (quantize, prune): options from the file or replayed from
 * a recipe, the core API, then the model (and, with save-recipe, the recipe and its lock) written
 * together and atomically. What the step did comes back as lines and as data for --json.
 */
import { modelSizeBytes } from '../src/eval/hash.js';
import type { Model } from '../src/ir/model.js';
import { loadModel, stageModel, type SaveOptions } from '../src/onnx/io.js';
import { saveLike, spillFor } from './model-save.js';
import { commitWith } from '../src/onnx/atomic-write.js';
import { checkRuntimeSupport } from '../src/runtime/ort-support.js';
import { quantize, type OtherModeOptions, type QuantizeOptions } from '../src/quantize/quantize.js';
import type { StaticQuantizeResult } from '../src/quantize/static/quantize-static.js';
import { prune } from '../src/prune/prune.js';
import { resolvePruneOptions, type PruneOptions } from '../src/prune/options.js';
import { kib } from '../src/quantize/report.js';
import { onlyStep, readRecipe } from '../src/recipe/recipe.js';
import { outputDifference, recipeFiles, replayStep, stepData, type StepReplay } from '../src/recipe/replay.js';
import { quantizeStep } from '../src/recipe/quantize-recipe.js';
import { pruneStep } from '../src/recipe/prune-recipe.js';
import type { ProgressListener } from '../src/progress.js';
import type { PipelineStep } from '../src/recipe/pipeline/schema.js';
import type { RecipeStep } from '../src/recipe/recipe.js';

export interface ModelStepResult {
  output: string;
  lines: string[];
  budgetMissed: boolean;
  /** For --json. */
  result: Record<string, unknown>;
  /** The step as a recipe step (data named relative to `recipePath`), for a recipe of the whole pipeline. */
  recipeStep: (recipePath: string) => RecipeStep;
  /** The data files it read, by role, for that recipe's lock. */
  data: Record<string, unknown>;
}

export interface StepContext {
  onProgress?: ProgressListener;
  /** Fail on a model or data hash that differs from a replayed recipe's lock. */
  locked: boolean;
}

type Options = Record<string, unknown> & { output: string; recipe?: string; saveRecipe?: string };

interface Prepared<O> {
  output: string;
  recipe?: string;
  saveRecipe?: string;
  model: Model;
  replay?: StepReplay;
  /** From the file, or from the replayed recipe. */
  options: O;
}

/** The step's model (the last one written), and its options: as written, or replayed from a recipe. */
function prepare<O>(s: PipelineStep, current: string, kind: 'quantize' | 'prune', ctx: StepContext): Prepared<O> {
  const { output, recipe, saveRecipe, ...rest } = s.options as Options;
  const model = loadModel(current);
  checkRuntimeSupport(model, current);
  let replay: StepReplay | undefined;
  if (recipe !== undefined) {
    const r = readRecipe(recipe);
    const calibration = rest['calibration'] as string | undefined;
    replay = replayStep(recipe, r, onlyStep(r, recipe, kind), model, { ...(calibration !== undefined ? { calibration } : {}), locked: ctx.locked });
  }
  return { output, ...(recipe ? { recipe } : {}), ...(saveRecipe ? { saveRecipe } : {}), model, ...(replay ? { replay } : {}), options: (replay ? replay.options : rest) as O };
}

/** Writes the model and, with save-recipe, the recipe and its lock: all in full, then renamed together. */
function write(model: Model, output: string, recipe: [string, string][], save: SaveOptions = {}): number {
  const m = stageModel(model, output, save);
  commitWith([m], recipe);
  return m.result.bytes + (m.result.externalDataBytes ?? 0);
}

const replayLines = (replay: StepReplay | undefined, output: Model): string[] => {
  if (!replay) return [];
  const differs = outputDifference(replay, output);
  return [...replay.hashes, ...replay.notes, ...(differs ? [differs] : [])].map((d) => `note: ${d}`);
};

export async function runQuantizeStep(s: PipelineStep, current: string, ctx: StepContext): Promise<ModelStepResult> {
  const { output, recipe, saveRecipe, model, replay, options } = prepare<QuantizeOptions>(s, current, 'quantize', ctx);
  const rest = options as { calibration?: unknown; evalData?: unknown; mode?: string };
  // As `slimnet quantize` saves (cli/model-save.ts): external data in, external data out, weight-only streaming.
  const save = saveLike(model, current);
  const spill = spillFor(rest.mode, save, output);
  try {
    const result = await quantize(model, { ...options, ...(spill ? { spill } : {}), ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) } as OtherModeOptions);
    const data: Record<string, unknown> = replay ? { ...replay.data } : { calibration: rest.calibration, evalData: rest.evalData };
    const target = (result as Partial<StaticQuantizeResult>).target;
    const recipeStep = (path: string): RecipeStep => ({ quantize: quantizeStep(options, result, stepData(path, data.calibration)) });
    const files = saveRecipe ? recipeFiles(saveRecipe, [recipeStep(saveRecipe)], {
      model, output: result.model, data, ...(target ? { target: target.name, host: target.host } : typeof result.settings.target === 'string' ? { target: result.settings.target } : {}),
    }) : [];
    // Measured before saving: the output may replace external data files the input reads.
    const before = modelSizeBytes(model, current);
    const after = write(result.model, output, files, save);
    const budget = (result as Partial<StaticQuantizeResult>).budget;
    const lines = [
      `${result.summary.mode}${recipe ? ' (recipe replayed)' : ''}: ${result.summary.quantized.length} nodes quantized, ${result.summary.skipped.length} left in float`,
      `${output}: ${kib(before)} -> ${kib(after)} (${(after / before).toFixed(2)}x)`,
      ...replayLines(replay, result.model),
    ];
    if (budget) lines.push(`accuracy budget: ${budget.verdict}`);
    if (saveRecipe) lines.push(`recipe: ${saveRecipe}`);
    return {
      output, lines, budgetMissed: budget !== undefined && budget.stop !== 'budget met',
      result: { mode: result.summary.mode, quantized: result.summary.quantized.length, float: result.summary.skipped.length, bytesBefore: before, bytesAfter: after, ...(budget ? { budget: budget.verdict } : {}), ...(saveRecipe ? { recipe: saveRecipe } : {}), replayed: recipe !== undefined },
      recipeStep, data,
    };
  } finally {
    spill?.dispose();
  }
}

export async function runPruneStep(s: PipelineStep, current: string, ctx: StepContext): Promise<ModelStepResult> {
  const { output, recipe, saveRecipe, model, replay, options } = prepare<PruneOptions>(s, current, 'prune', ctx);
  const resolved = resolvePruneOptions(options);
  const result = await prune(model, { ...options, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
  const data: Record<string, unknown> = { ...(resolved.calibration !== undefined ? { calibration: resolved.calibration } : {}), ...(resolved.evalData !== undefined ? { evalData: resolved.evalData } : {}) };
  const recipeStep = (path: string): RecipeStep => ({ prune: pruneStep(resolved, result.plan, stepData(path, resolved.calibration)) });
  const files = saveRecipe ? recipeFiles(saveRecipe, [recipeStep(saveRecipe)], { model, output: result.model, data }) : [];
  const before = modelSizeBytes(model, current);
  const after = write(result.model, output, files, saveLike(model, current));
  const sum = result.summary;
  const missed = resolved.maxDrop !== undefined && !sum.search?.some((t) => t.withinBudget);
  const pruned = sum.channels ? `${sum.channels.groups.filter((g) => g.after < g.before).length} channel groups cut` : `${sum.layers.length} layers pruned`;
  const lines = [
    `${sum.method}${recipe ? ' (recipe replayed)' : ''}: sparsity ${sum.sparsity}, ${pruned}; weights ${sum.params.nonzeroBefore} -> ${sum.params.nonzeroAfter} non-zero`,
    `${output}: ${kib(before)} -> ${kib(after)} (${(after / before).toFixed(2)}x)`,
    ...replayLines(replay, result.model),
    ...(missed ? ['accuracy budget: no sparsity tried stayed within it; the model is written unpruned'] : []),
  ];
  if (saveRecipe) lines.push(`recipe: ${saveRecipe}`);
  return {
    output, lines, budgetMissed: missed,
    result: { method: sum.method, scope: sum.scope, sparsity: sum.sparsity, params: sum.params, bytesBefore: before, bytesAfter: after, ...(saveRecipe ? { recipe: saveRecipe } : {}), replayed: recipe !== undefined },
    recipeStep, data,
  };
}
