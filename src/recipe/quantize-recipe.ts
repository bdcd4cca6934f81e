/**
 * Recipes for static quantization: what a run did, as a JSON file that replays it without
 * searching (`slimnet quantize --save-recipe r.json`, then `--recipe r.json`). A recipe holds the
 * options that shape the model, the ranges (tensor names of the pre-processed model), and the
 * decisions the searches made (placement, nodes kept in float, weight stores); replayed on the same
 * model with the same slimnet and ONNX Runtime, it writes the same bytes. The lock records what the
 * result depended on, so a replay elsewhere can say what differs.
 */
import { readFileSync } from 'node:fs';
import type { Model } from '../ir/model.js';
import { OptionError } from '../errors.js';
import { VERSION } from '../version.js';
import { ortVersion } from '../runtime/providers.js';
import { detectHardware } from '../target/hardware.js';
import { modelHash } from '../onnx/hash.js';
import type { TensorRange } from '../calibrate/types.js';
import type { StaticQuantizeOptions } from '../quantize/static/options.js';
import type { StaticQuantizeResult } from '../quantize/static/quantize-static.js';
import { checkDecisions, type QuantDecisions } from '../quantize/static/decisions.js';

export const RECIPE_SCHEMA = 'slimnet.recipe/1';

/** The options of static quantization that shape the written model (the rest is how to search). */
const SHAPING_KEYS = ['format', 'perChannel', 'activations', 'weights', 'target', 'symmetricActivations', 'reduceRange', 'exclude', 'opTypes', 'storeConstants', 'preprocess', 'method', 'percentile'] as const;
type ShapingKey = (typeof SHAPING_KEYS)[number];
export type RecipeOptions = Pick<StaticQuantizeOptions, ShapingKey>;

export interface QuantizeStep {
  quantize: {
    mode: 'static';
    options: RecipeOptions;
    /** Tensor -> [min, max] of the pre-processed model. */
    ranges: Record<string, [number, number]>;
    decisions: QuantDecisions;
  };
}

export interface RecipeLock {
  slimnet: string;
  onnxruntimeNode: string;
  /** sha256 of the model the recipe was made from. */
  modelSha256: string;
  cpu: string;
  int8Flags: string[];
  /** The target the model was written for, and the host's own. */
  target: string;
  host: string;
  createdAt: string;
}

export interface Recipe {
  schema: typeof RECIPE_SCHEMA;
  steps: QuantizeStep[];
  lock: RecipeLock;
}

/** The recipe of a static quantization run. */
export function quantizeRecipe(model: Model, options: StaticQuantizeOptions, result: StaticQuantizeResult): Recipe {
  const shaping: Record<string, unknown> = {};
  for (const k of SHAPING_KEYS) if (options[k] !== undefined) shaping[k] = options[k];
  // The target as resolved: replaying 'host' elsewhere would quantize for another machine.
  shaping.target = result.target.name;
  const hw = detectHardware();
  return {
    schema: RECIPE_SCHEMA,
    steps: [{
      quantize: {
        mode: 'static',
        options: shaping as RecipeOptions,
        ranges: Object.fromEntries([...result.ranges].map(([k, r]) => [k, [r.min, r.max]])),
        decisions: result.decisions,
      },
    }],
    lock: {
      slimnet: VERSION, onnxruntimeNode: ortVersion(), modelSha256: modelHash(model), cpu: hw.cpuModel, int8Flags: hw.int8Flags,
      target: result.target.name, host: result.target.host, createdAt: new Date().toISOString(),
    },
  };
}

/** Reads a recipe file, naming the file and the key at fault. */
export function readRecipe(path: string): Recipe {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OptionError(`--recipe ${path}: not a readable JSON recipe (${(err as Error).message.split('\n')[0]})`);
  }
  const fail = (key: string, what: string): never => { throw new OptionError(`--recipe ${path}: ${key} ${what}`); };
  const r = doc as Partial<Recipe>;
  if (r?.schema !== RECIPE_SCHEMA) fail('schema', `must be '${RECIPE_SCHEMA}' (got ${JSON.stringify(r?.schema)})`);
  if (!Array.isArray(r.steps) || r.steps.length !== 1 || !r.steps[0]?.quantize) fail('steps', 'must hold one { quantize: ... } step (pipelines of several steps come with slimnet run)');
  const q = r.steps![0]!.quantize as Partial<QuantizeStep['quantize']>;
  if (q.mode !== 'static') fail('steps[0].quantize.mode', `must be 'static' (got ${JSON.stringify(q.mode)})`);
  if (!q.options || typeof q.options !== 'object') fail('steps[0].quantize.options', 'must be an object');
  for (const k of Object.keys(q.options!)) if (!(SHAPING_KEYS as readonly string[]).includes(k)) fail(`steps[0].quantize.options.${k}`, `is not an option a recipe keeps (${SHAPING_KEYS.join(', ')})`);
  if (!q.ranges || typeof q.ranges !== 'object') fail('steps[0].quantize.ranges', 'must be an object of tensor: [min, max]');
  for (const [k, v] of Object.entries(q.ranges!)) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) fail(`steps[0].quantize.ranges.${k}`, `must be [min, max] (got ${JSON.stringify(v)})`);
  }
  checkDecisions(q.decisions, `--recipe ${path}: steps[0].quantize`);
  return r as Recipe;
}

/** The options that replay a recipe's quantize step on a model: its shaping options, ranges and decisions. */
export function replayOptions(recipe: Recipe): StaticQuantizeOptions {
  const q = recipe.steps[0]!.quantize;
  const ranges = new Map<string, TensorRange>(Object.entries(q.ranges).map(([k, [min, max]]) => [k, { min, max }]));
  return { ...q.options, ranges, decisions: q.decisions };
}

/** What differs between the lock and this run (model, versions), for a note on replay. */
export function lockDifferences(recipe: Recipe, model: Model): string[] {
  const l = recipe.lock;
  const out: string[] = [];
  if (l.modelSha256 !== modelHash(model)) out.push(`the model differs from the one the recipe was made from (sha256 ${l.modelSha256.slice(0, 12)}...): names in the recipe may not match`);
  if (l.slimnet !== VERSION) out.push(`made with slimnet ${l.slimnet}, replayed with ${VERSION}`);
  if (l.onnxruntimeNode !== ortVersion()) out.push(`made with onnxruntime-node ${l.onnxruntimeNode}, replayed with ${ortVersion()}: pre-processing may differ`);
  return out;
}
