/**
 * Saving and replaying recipe steps: where a step's data is (relative to the recipe file), the
 * recipe and its lock as the texts to write, and, on replay, the options plus what differs from the
 * lock (model and data hashes, which change the result; versions, which may).
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Model } from '../ir/model.js';
import { modelHash } from '../onnx/hash.js';
import type { QuantizeOptions } from '../quantize/quantize.js';
import type { PruneOptions } from '../prune/options.js';
import { OptionError } from '../errors.js';
import { RECIPE_SCHEMA, type Recipe, type RecipeStep, type StepData } from './recipe.js';
import { quantizeStepOptions } from './quantize-recipe.js';
import { pruneStepOptions } from './prune-recipe.js';
import { lockDifferences, lockPathFor, makeLock, readLock, type LockInput, type RecipeLock } from './lock.js';

/** The data of a step as the recipe at `recipePath` names it (relative to its directory), or nothing for in-memory data. */
export function stepData(recipePath: string, calibration: unknown): StepData | undefined {
  if (typeof calibration !== 'string') return undefined;
  return { calibration: relative(dirname(resolve(recipePath)), resolve(calibration)) || '.' };
}

/** The recipe of `steps` and its lock, as [path, text] pairs to write together. */
export function recipeFiles(recipePath: string, steps: RecipeStep[], lock: Omit<LockInput, 'recipeText'>): [string, string][] {
  const recipe: Recipe = { schema: RECIPE_SCHEMA, steps };
  const text = `${JSON.stringify(recipe, null, 2)}\n`;
  return [[recipePath, text], [lockPathFor(recipePath), `${JSON.stringify(makeLock({ ...lock, recipeText: text }), null, 2)}\n`]];
}

export interface StepReplay {
  kind: 'quantize' | 'prune';
  options: QuantizeOptions | PruneOptions;
  /** Data files the replay reads, by role. */
  data: Record<string, string>;
  lock?: RecipeLock;
  /** Model or data hashes that differ from the lock (the result may differ). */
  hashes: string[];
  /** Versions that differ from the lock. */
  notes: string[];
}

/**
 * Options replaying `step` of the recipe at `recipePath` on `model`. `calibration` overrides the
 * data the step names. `locked`: a model or data hash that differs from the lock is an error.
 */
export function replayStep(recipePath: string, recipe: Recipe, step: RecipeStep, model: Model | undefined, o: { calibration?: string; locked?: boolean } = {}): StepReplay {
  const saved: StepData | undefined = 'prune' in step ? step.prune.data : (step.quantize as { data?: StepData }).data;
  const named = saved?.calibration === undefined ? undefined : isAbsolute(saved.calibration) ? saved.calibration : resolve(dirname(resolve(recipePath)), saved.calibration);
  if (o.calibration !== undefined && named === undefined) throw new OptionError(`--calib: the recipe ${recipePath} reads no data on replay (its decisions are in the recipe); drop --calib`);
  const calibration = o.calibration ?? named;
  const data: Record<string, string> = calibration !== undefined ? { calibration } : {};
  const lock = readLock(recipePath, recipe.lock);
  const diff = lock && model ? lockDifferences(lock, model, data) : { hashes: [], notes: [] };
  if (o.locked) {
    if (!lock) throw new OptionError(`--locked: no lock file next to ${recipePath} (${lockPathFor(recipePath)}); save the recipe again or drop --locked`);
    if (diff.hashes.length) throw new OptionError(`--locked: ${diff.hashes[0]} (${lockPathFor(recipePath)}); replay on the locked inputs or drop --locked`);
  }
  const options = 'prune' in step ? pruneStepOptions(step.prune, calibration) : quantizeStepOptions(step.quantize, calibration);
  return { kind: 'prune' in step ? 'prune' : 'quantize', options, data, ...(lock ? { lock } : {}), ...diff };
}

/** A note when a replayed model's content differs from the one the lock recorded (undefined when it matches or nothing was recorded). */
export function outputDifference(replay: StepReplay, output: Model): string | undefined {
  const want = replay.lock?.outputSha256;
  if (!want) return undefined;
  return modelHash(output) === want ? undefined : `the replayed model differs from the one the recipe recorded (sha256 ${want.slice(0, 12)}...): ${replay.hashes.length || replay.notes.length ? 'see the notes above' : 'same inputs and versions, so please report it'}`;
}
