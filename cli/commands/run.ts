/**
 * `slimnet run pipeline.yaml`: the steps of a pipeline file (src/recipe/pipeline), or
 * `slimnet run recipe.json --model m.onnx -o out.onnx`: a recipe saved by --save-recipe (quantize
 * in any mode, or prune) or the wizard, replayed to the same bytes. `--json` prints every step, its
 * result and gates, and the exit code as one document (schema slimnet.run/1).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readPipeline } from '../../src/recipe/pipeline/parse.js';
import { isRecipeText, readRecipe } from '../../src/recipe/recipe.js';
import type { Pipeline } from '../../src/recipe/pipeline/schema.js';
import { OptionError } from '../../src/errors.js';
import { examplesText } from '../examples.js';
import { action, reportError } from '../run-command.js';
import { print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { terminalProgress } from '../progress.js';
import { checkPipeline, runPipeline, type StepReport } from '../pipeline.js';
import { replayChain } from '../replay-chain.js';
import { checkOutputs, recipeInputs } from '../outputs.js';

interface RunFlags {
  model?: string;
  output?: string;
  calib?: string;
  json?: boolean;
  locked?: boolean;
}

function isSavedRecipe(file: string): boolean {
  try {
    return isRecipeText(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** A saved recipe as a one-step pipeline: replayed on --model, written to -o. */
function recipePipeline(file: string, flags: RunFlags): Pipeline {
  if (!flags.model || !flags.output) throw new OptionError(`${file} is a saved recipe: give the model to replay it on and where to write it: --model MODEL.onnx -o OUT.onnx`);
  const recipe = readRecipe(file);
  const kind = 'prune' in recipe.steps[0]! ? 'prune' : 'quantize';
  const keys = ['recipe', 'output', ...(flags.calib ? ['calib'] : [])];
  return {
    file, model: resolve(flags.model),
    steps: [{
      kind, where: file, keys, keyWhere: { recipe: file, output: '-o', calib: '--calib' },
      options: { recipe: resolve(file), output: resolve(flags.output), ...(flags.calib ? { calibration: resolve(flags.calib) } : {}) },
    }],
  };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline file (YAML or JSON: prune, quantize, eval with gates, bench), or replay a saved recipe')
    .argument('<file>', 'pipeline.yaml / .json (schema slimnet.pipeline/1), or a recipe from --save-recipe')
    .option('--model <file>', 'with a saved recipe: the model to replay it on')
    .option('-o, --output <file>', 'with a saved recipe: where to write the model')
    .option('--calib <data>', 'with a saved recipe that reads data on replay (GPTQ, Wanda, SparseGPT, reconstruction): the data, instead of the file the recipe names')
    .option('--locked', 'fail (exit 2) when a replayed recipe\'s model or data differ from the hashes in its lock (default: a note)')
    .option('--json', 'print the steps, their results and gates, and the exit code as JSON (schema slimnet.run/1)')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', VERBOSE_HELP)
    .addHelpText('after', examplesText([
      'slimnet run fixtures/pipelines/prune-quantize.yaml',
      'slimnet run out/vit.recipe.json --model fixtures/models/vit_tiny.onnx -o out/vit.replayed.onnx',
      'slimnet run out/resnet.slim.recipe.json --model fixtures/models/resnet_bn.onnx -o out/resnet.slim.replayed.onnx --json',
    ], `
pipeline.yaml (save-recipe: one recipe of the prune and quantize steps, replayed by slimnet run):
  model: model.onnx
  save-recipe: model.recipe.json
  steps:
    - prune: { method: channel, sparsity: 0.3, calib: calib.npz, output: model.pruned.onnx }
    - quantize: { calib: calib.npz, output: model.int8.onnx }
    - eval: { data: test.npz, max-drop: 1, fail-if: "speedup < 1.1" }
    - bench: { runs: 50 }`))
    .action(action(async (file: string, flags: RunFlags) => {
      const steps: StepReport[] = [];
      const run = async (): Promise<number> => {
        let pipeline: Pipeline;
        const progress = flags.json ? undefined : terminalProgress();
        const show = (r: StepReport) => {
          steps.push(r);
          if (!flags.json) print([r.step, ...r.lines.map((l) => `  ${l}`)].join('\n'));
        };
        if (isSavedRecipe(file) && readRecipe(file).steps.length > 1) {
          if (!flags.model || !flags.output) throw new OptionError(`${file} is a saved recipe: give the model to replay it on and where to write it: --model MODEL.onnx -o OUT.onnx`);
          if (flags.calib) throw new OptionError(`--calib: ${file} has several steps, each with its own data; replay them on the data they name`);
          checkOutputs([{ flag: '-o', path: flags.output }], [{ what: 'the model (--model)', path: flags.model }, ...recipeInputs(file, 'the recipe')]);
          return replayChain(file, flags.model, flags.output, { locked: flags.locked ?? false, ...(progress ? { onProgress: progress } : {}) }, show);
        }
        if (isSavedRecipe(file)) pipeline = recipePipeline(file, flags);
        else {
          if (flags.model || flags.output || flags.calib) throw new OptionError('--model, -o and --calib apply to a saved recipe; a pipeline file names its model, data and outputs itself');
          pipeline = readPipeline(file);
        }
        await checkPipeline(pipeline);
        return runPipeline(pipeline, show, { ...(progress ? { onProgress: progress } : {}), locked: flags.locked ?? false });
      };
      if (!flags.json) return run();
      // --json: the document is printed whatever happens; the error line still goes to stderr.
      let code: number;
      let error: string | undefined;
      try {
        code = await run();
      } catch (err) {
        code = reportError(err);
        error = err instanceof Error ? err.message : String(err);
      }
      printJson({ schema: 'slimnet.run/1', file, steps, exitCode: code, ...(error ? { error } : {}) });
      return code;
    }));
}
