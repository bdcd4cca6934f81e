/**
 * `slimnet run pipeline.yaml`: the steps of a pipeline file (src/recipe/pipeline), or
 * `slimnet run recipe.json --model m.onnx -o out.onnx`: a recipe saved by --save-recipe or the
 * wizard, replayed to the same bytes.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readPipeline } from '../../src/recipe/pipeline/parse.js';
import { RECIPE_SCHEMA } from '../../src/recipe/quantize-recipe.js';
import type { Pipeline } from '../../src/recipe/pipeline/schema.js';
import { OptionError } from '../../src/errors.js';
import { action } from '../run-command.js';
import { print } from '../output.js';
import { terminalProgress } from '../progress.js';
import { checkPipeline, runPipeline } from '../pipeline.js';
import { resolve } from 'node:path';

function isSavedRecipe(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { schema?: unknown }).schema === RECIPE_SCHEMA;
  } catch {
    return false;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline file (YAML or JSON: quantize, eval with gates, bench), or replay a saved recipe')
    .argument('<file>', 'pipeline.yaml / .json (schema slimnet.pipeline/1), or a recipe from --save-recipe')
    .option('--model <file>', 'with a saved recipe: the model to replay it on')
    .option('-o, --output <file>', 'with a saved recipe: where to write the model')
    .addHelpText('after', `
Examples:
  slimnet run pipeline.yaml
  slimnet run model.int8.recipe.json --model model.onnx -o model.int8.onnx

pipeline.yaml:
  model: model.onnx
  steps:
    - quantize: { calib: calib.npz, output: model.int8.onnx }
    - eval: { data: test.npz, max-drop: 1, fail-if: "speedup < 1.1" }
    - bench: { runs: 50 }`)
    .action(action(async (file: string, flags: { model?: string; output?: string }) => {
      let pipeline: Pipeline;
      if (isSavedRecipe(file)) {
        if (!flags.model || !flags.output) throw new OptionError(`${file} is a saved recipe: give the model to replay it on and where to write it: --model MODEL.onnx -o OUT.onnx`);
        pipeline = {
          file, model: resolve(flags.model),
          steps: [{ kind: 'quantize', where: file, keys: ['recipe', 'output'], keyWhere: { recipe: file, output: '-o' }, options: { recipe: resolve(file), output: resolve(flags.output) } }],
        };
      } else {
        if (flags.model || flags.output) throw new OptionError('--model and -o apply to a saved recipe; a pipeline file names its model and outputs itself');
        pipeline = readPipeline(file);
      }
      await checkPipeline(pipeline);
      return runPipeline(pipeline, (r) => print([r.step, ...r.lines.map((l) => `  ${l}`)].join('\n')), terminalProgress());
    }));
}
