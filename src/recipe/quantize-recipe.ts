/**
 * Recipe steps of quantization, one per mode: the options that shape the model (target as
 * resolved: replaying 'host' elsewhere would quantize for another machine) and what the run
 * decided. Static keeps its ranges and every search decision; fp16 the values its data drove
 * beyond float16; weight-only GPTQ names its calibration data (it is a computation over the data,
 * not a search, so replay reads the same file again; the lock holds its hash).
 */
import type { Model } from '../ir/model.js';
import type { TensorRange } from '../calibrate/types.js';
import type { StaticQuantizeOptions } from '../quantize/static/options.js';
import type { StaticQuantizeResult } from '../quantize/static/quantize-static.js';
import type { OtherModeOptions, QuantizeOptions } from '../quantize/quantize.js';
import type { QuantizeResult } from '../quantize/types.js';
import { DYNAMIC_KEYS, FP16_KEYS, STATIC_KEYS, WEIGHT_ONLY_KEYS } from './keys.js';
import { RECIPE_SCHEMA, type QuantizeRecipeStep, type Recipe, type RecipeOptions, type StaticStep, type StepData } from './recipe.js';

export { RECIPE_SCHEMA, readRecipe, type Recipe } from './recipe.js';

function pick(options: object, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((options as Record<string, unknown>)[k] !== undefined) out[k] = (options as Record<string, unknown>)[k];
  return out;
}

export function staticStep(options: StaticQuantizeOptions, result: StaticQuantizeResult): StaticStep {
  return {
    mode: 'static',
    options: { ...pick(options, STATIC_KEYS), target: result.target.name } as RecipeOptions,
    ranges: Object.fromEntries([...result.ranges].map(([k, r]) => [k, [r.min, r.max]])),
    decisions: result.decisions,
  };
}

/** The recipe step of any quantize run; `data` holds the data a replay must read again (relative to the recipe). */
export function quantizeStep(options: QuantizeOptions, result: QuantizeResult, data?: StepData): QuantizeRecipeStep {
  const mode = options.mode ?? 'static';
  const target = typeof result.settings.target === 'string' ? { target: result.settings.target } : {};
  switch (mode) {
    case 'static': return staticStep(options as StaticQuantizeOptions, result as StaticQuantizeResult);
    case 'dynamic': return { mode, options: { ...pick(options, DYNAMIC_KEYS), ...target } };
    case 'weight-only': {
      const gptq = (options as { algorithm?: string }).algorithm === 'gptq';
      return { mode, options: { ...pick(options, WEIGHT_ONLY_KEYS), ...target }, ...(gptq && data?.calibration ? { data } : {}) };
    }
    case 'fp16': return { mode, options: pick(options, FP16_KEYS), decisions: { beyondFp16: result.beyondFp16 ?? {} } };
  }
}

/** The recipe of a static quantization run (the API's one-call form). */
export function quantizeRecipe(_model: Model, options: StaticQuantizeOptions, result: StaticQuantizeResult): Recipe {
  return { schema: RECIPE_SCHEMA, steps: [{ quantize: staticStep(options, result) }] };
}

/** The options that replay a quantize step; `calibration` is the data file a GPTQ step reads again. */
export function quantizeStepOptions(q: QuantizeRecipeStep, calibration?: string): QuantizeOptions {
  switch (q.mode) {
    case 'static': {
      const ranges = new Map<string, TensorRange>(Object.entries(q.ranges).map(([k, [min, max]]) => [k, { min, max }]));
      return { ...q.options, ranges, decisions: q.decisions };
    }
    case 'dynamic': return { mode: 'dynamic', ...q.options } as OtherModeOptions;
    case 'weight-only': return { mode: 'weight-only', ...q.options, ...(calibration ? { calibration } : {}) } as OtherModeOptions;
    case 'fp16': return { mode: 'fp16', ...q.options, beyondFp16: q.decisions.beyondFp16 } as OtherModeOptions;
  }
}

/** The options that replay a static recipe's quantize step (kept for the API: recipes of static runs). */
export function replayOptions(recipe: Recipe): StaticQuantizeOptions {
  const step = recipe.steps[0]!;
  if (!('quantize' in step) || step.quantize.mode !== 'static') throw new Error('replayOptions replays static quantize recipes; use replayStep for the others');
  return quantizeStepOptions(step.quantize) as StaticQuantizeOptions;
}
