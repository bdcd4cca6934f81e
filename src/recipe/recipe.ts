/**
 * Recipes: what a `quantize` (any mode) or `prune` run did, as a JSON file that replays it to the
 * same bytes without searching again (`--save-recipe r.json`, then `--recipe r.json` or
 * `slimnet run r.json`). One schema for every command, versioned:
 *
 * - `slimnet.recipe/1`: one static quantize step with the lock inside (still read).
 * - `slimnet.recipe/2`: steps of any kind; the lock is a file of its own next to the recipe
 *   (lock.ts). Each step holds the options that shape the model and the decisions its searches
 *   made; a step whose algorithm reads data on replay (GPTQ, Wanda, SparseGPT, reconstruction)
 *   names the data, relative to the recipe file, and the lock holds its hash.
 */
import { readFileSync } from 'node:fs';
import { OptionError } from '../errors.js';
import type { QuantDecisions } from '../quantize/static/decisions.js';
import type { StaticQuantizeOptions } from '../quantize/static/options.js';
import type { DynamicQuantizeOptions } from '../quantize/dynamic/options.js';
import type { WeightOnlyOptions } from '../quantize/weight-only/options.js';
import type { Fp16Options } from '../quantize/fp16/options.js';
import type { PruneOptions } from '../prune/options.js';
import type { PrunePlan } from '../prune/plan.js';
import type { RecipeLock } from './lock.js';
import { checkStep } from './check-step.js';
import type { DYNAMIC_KEYS, FP16_KEYS, PRUNE_KEYS, STATIC_KEYS, WEIGHT_ONLY_KEYS } from './keys.js';

export const RECIPE_SCHEMA = 'slimnet.recipe/2';
export const RECIPE_SCHEMAS = ['slimnet.recipe/1', RECIPE_SCHEMA] as const;

export type RecipeOptions = Pick<StaticQuantizeOptions, (typeof STATIC_KEYS)[number]>;

/** Data a step reads again on replay, relative to the recipe file. */
export interface StepData {
  calibration?: string;
}

export interface StaticStep {
  mode: 'static';
  options: RecipeOptions;
  /** Tensor -> [min, max] of the pre-processed model. */
  ranges: Record<string, [number, number]>;
  decisions: QuantDecisions;
}
export interface DynamicStep {
  mode: 'dynamic';
  options: Pick<DynamicQuantizeOptions, (typeof DYNAMIC_KEYS)[number]>;
}
export interface WeightOnlyStep {
  mode: 'weight-only';
  options: Pick<WeightOnlyOptions, (typeof WEIGHT_ONLY_KEYS)[number]>;
  data?: StepData;
}
export interface Fp16Step {
  mode: 'fp16';
  options: Pick<Fp16Options, (typeof FP16_KEYS)[number]>;
  /** Values the data drove beyond float16 (their nodes stay float32); empty without data. */
  decisions: { beyondFp16: Record<string, number> };
}
export type QuantizeRecipeStep = StaticStep | DynamicStep | WeightOnlyStep | Fp16Step;

export interface PruneRecipeStep {
  options: Pick<PruneOptions, (typeof PRUNE_KEYS)[number]>;
  /** Every decision: per-layer sparsities (unstructured) or the units dropped per channel group. */
  plan: PrunePlan;
  data?: StepData;
}

export type RecipeStep = { quantize: QuantizeRecipeStep } | { prune: PruneRecipeStep };

export interface Recipe {
  schema: (typeof RECIPE_SCHEMAS)[number];
  steps: RecipeStep[];
  /** Only in slimnet.recipe/1 files; version 2 keeps it in the lock file next to the recipe. */
  lock?: RecipeLock;
}

/** Whether `text` (a file's content) is a saved recipe of any version. */
export function isRecipeText(text: string): boolean {
  try {
    return (RECIPE_SCHEMAS as readonly unknown[]).includes((JSON.parse(text) as { schema?: unknown }).schema);
  } catch {
    return false;
  }
}

/** Reads a recipe file (version 1 or 2), naming the file and the key at fault. */
export function readRecipe(path: string): Recipe {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OptionError(`--recipe ${path}: not a readable JSON recipe (${(err as Error).message.split('\n')[0]})`);
  }
  const fail = (key: string, what: string): never => { throw new OptionError(`--recipe ${path}: ${key} ${what}`); };
  const r = doc as Partial<Recipe>;
  if (!(RECIPE_SCHEMAS as readonly unknown[]).includes(r?.schema)) fail('schema', `must be '${RECIPE_SCHEMA}' (or '${RECIPE_SCHEMAS[0]}'; got ${JSON.stringify(r?.schema)})`);
  if (!Array.isArray(r.steps) || r.steps.length < 1) fail('steps', 'must be a list of { quantize: ... } or { prune: ... } steps');
  if (r.schema === RECIPE_SCHEMAS[0] && (r.steps!.length !== 1 || (r.steps![0] as { quantize?: { mode?: unknown } }).quantize?.mode !== 'static')) fail('steps', `of a ${RECIPE_SCHEMAS[0]} recipe must hold one static quantize step`);
  r.steps!.forEach((s, i) => checkStep(s, `steps[${i}]`, fail, `--recipe ${path}`));
  return r as Recipe;
}

/** The one step of a recipe of one step, or an error naming the command that replays the others. */
export function onlyStep(recipe: Recipe, path: string, command: 'quantize' | 'prune'): RecipeStep {
  if (recipe.steps.length !== 1) throw new OptionError(`--recipe ${path} has ${recipe.steps.length} steps: replay it with slimnet run ${path}`);
  const step = recipe.steps[0]!;
  if (!(command in step)) throw new OptionError(`--recipe ${path} is a ${'prune' in step ? 'prune' : 'quantize'} recipe: replay it with slimnet ${'prune' in step ? 'prune' : 'quantize'} --recipe (or slimnet run)`);
  return step;
}
