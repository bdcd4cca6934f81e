/**
 * `slimnet run r.json --model M -o OUT` for a recipe of several steps (a pipeline's top-level
 * save-recipe): each step replayed on the model the last one made, in memory, and the last model
 * written. Between steps the model goes through its bytes, as the pipeline wrote and read it, so
 * the replay sees the same model (and the same hashes) the pipeline did.
 */
import type { Model } from '../src/ir/model.js';
import { loadModel, loadModelFromBytes, modelToBytes, stageModel } from '../src/onnx/io.js';
import { commitWith } from '../src/onnx/atomic-write.js';
import { checkRuntimeSupport } from '../src/runtime/ort-support.js';
import { modelHash } from '../src/onnx/hash.js';
import { quantize, type OtherModeOptions } from '../src/quantize/quantize.js';
import { prune } from '../src/prune/prune.js';
import type { PruneOptions } from '../src/prune/options.js';
import { OptionError } from '../src/errors.js';
import { readRecipe } from '../src/recipe/recipe.js';
import { replayStep } from '../src/recipe/replay.js';
import { lockDifferences, lockPathFor, readLock } from '../src/recipe/lock.js';
import type { ProgressListener } from '../src/progress.js';
import type { StepReport } from './pipeline.js';

export async function replayChain(file: string, modelPath: string, output: string, o: { locked: boolean; onProgress?: ProgressListener }, report: (r: StepReport) => void): Promise<number> {
  const recipe = readRecipe(file);
  const input = loadModel(modelPath);
  checkRuntimeSupport(input, modelPath);
  const replays = recipe.steps.map((step) => replayStep(file, recipe, step, undefined));
  // The lock names each step's data as steps[i].role; the model is the first step's.
  const data: Record<string, string> = {};
  replays.forEach((r, i) => { for (const [role, path] of Object.entries(r.data)) data[`steps[${i}].${role}`] = path; });
  const lock = readLock(file, recipe.lock);
  if (o.locked && !lock) throw new OptionError(`--locked: no lock file next to ${file} (${lockPathFor(file)}); save the recipe again or drop --locked`);
  const diff = lock ? lockDifferences(lock, input, data) : { hashes: [], notes: [] };
  if (o.locked && diff.hashes.length) throw new OptionError(`--locked: ${diff.hashes[0]} (${lockPathFor(file)}); replay on the locked inputs or drop --locked`);
  let current: Model = input;
  for (const [i, r] of replays.entries()) {
    const progress = o.onProgress ? { onProgress: o.onProgress } : {};
    current = r.kind === 'prune'
      ? (await prune(current, { ...(r.options as PruneOptions), ...progress })).model
      : (await quantize(current, { ...r.options, ...progress } as OtherModeOptions)).model;
    current = loadModelFromBytes(modelToBytes(current));
    report({ step: `${file}: steps[${i}].${r.kind}`, kind: r.kind, lines: [`${r.kind} (recipe replayed)`] });
  }
  commitWith([stageModel(current, output)], []);
  const notes = [...diff.hashes, ...diff.notes];
  if (lock?.outputSha256 && modelHash(current) !== lock.outputSha256) notes.push(`the replayed model differs from the one the recipe recorded (sha256 ${lock.outputSha256.slice(0, 12)}...)`);
  report({ step: file, kind: recipe.steps.length && 'prune' in recipe.steps.at(-1)! ? 'prune' : 'quantize', lines: [`${output}: written`, ...notes.map((n) => `note: ${n}`)], output });
  return 0;
}
