/**
 * `slimnet prune MODEL -o OUT --sparsity S`: prunes the ONNX graph (same option names as the API's
 * prune(): --calib is `calibration`, --max-drop `maxDrop`, ...), writes it atomically, then says
 * what it did, measured: size raw and compressed, latency on this CPU, accuracy or output fidelity.
 */
import type { Command } from 'commander';
import type { Model } from '../../src/ir/model.js';
import { loadModel, stageModel } from '../../src/onnx/io.js';
import { commitWith } from '../../src/onnx/atomic-write.js';
import { modelFiles } from '../../src/eval/hash.js';
import { checkRuntimeSupport } from '../../src/runtime/ort-support.js';
import { prune } from '../../src/prune/prune.js';
import { PRUNE_METHODS, PRUNE_SCOPES, CHANNEL_IMPORTANCES, resolvePruneOptions, pruneSettings, type PruneOptions } from '../../src/prune/options.js';
import { formatPlan } from '../../src/prune/plan.js';
import { checkPruned } from '../../src/prune/check.js';
import { formatPruneReport, type PruneReport } from '../../src/prune/report.js';
import { detectHardware } from '../../src/target/hardware.js';
import { Engine } from '../../src/runtime/engine.js';
import { OptionError } from '../../src/errors.js';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { note, print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { onlyStep, readRecipe, type Recipe } from '../../src/recipe/recipe.js';
import { outputDifference, recipeFiles, replayStep, stepData, type StepReplay } from '../../src/recipe/replay.js';
import { pruneStep } from '../../src/recipe/prune-recipe.js';
import { lockPathFor } from '../../src/recipe/lock.js';
import { checkOutputs, type InputPath, type OutputPath, recipeInputs } from '../outputs.js';
import { EXIT_BUDGET_MISSED } from './quantize.js';
import { terminalProgress } from '../progress.js';

interface PruneFlags {
  output: string;
  sparsity?: string;
  method?: string;
  scope?: string;
  pattern?: string;
  calib?: string;
  calibSize?: string;
  exclude: string[];
  includeFirstLast?: boolean;
  maxDrop?: string;
  evalData?: string;
  evalSize?: string;
  importance?: string;
  reconstruct: boolean;
  channelMultiple?: string;
  dampPercent?: string;
  planOut?: string;
  printPlan?: boolean;
  latency: boolean;
  verbose?: boolean;
  json?: boolean;
  saveRecipe?: string;
  recipe?: string;
  locked?: boolean;
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

function num(flag: string, v: string | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new OptionError(`${flag} must be ${integer ? 'an integer' : 'a number'} (got '${v}')`);
  return n;
}

/** '0.5' or '50%'. */
function fraction(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t.endsWith('%') ? num('--sparsity', t.slice(0, -1))! / 100 : num('--sparsity', t);
}

export function pruneOptions(f: PruneFlags, reconstructGiven: boolean): PruneOptions {
  const o: PruneOptions = { exclude: f.exclude, includeFirstLast: f.includeFirstLast ?? false };
  const s = fraction(f.sparsity);
  if (s !== undefined) o.sparsity = s;
  if (f.method) o.method = f.method as PruneOptions['method'];
  if (f.scope) o.scope = f.scope as PruneOptions['scope'];
  if (f.pattern) o.pattern = f.pattern;
  if (f.calib) o.calibration = f.calib;
  const calibSize = num('--calib-size', f.calibSize, true);
  if (calibSize !== undefined) o.calibSize = calibSize;
  const maxDrop = num('--max-drop', f.maxDrop);
  if (maxDrop !== undefined) o.maxDrop = maxDrop;
  if (f.evalData) o.evalData = f.evalData;
  const evalSize = num('--eval-size', f.evalSize, true);
  if (evalSize !== undefined) o.evalSize = evalSize;
  if (f.importance) o.importance = f.importance as PruneOptions['importance'];
  if (reconstructGiven) o.reconstruct = f.reconstruct;
  const multiple = num('--channel-multiple', f.channelMultiple, true);
  if (multiple !== undefined) o.channelMultiple = multiple;
  const damp = num('--damp-percent', f.dampPercent);
  if (damp !== undefined) o.dampPercent = damp;
  return o;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('prune the ONNX graph, no retraining: zero weights (magnitude, Wanda, SparseGPT, N:M) or remove whole channels, heads and neurons so ONNX Runtime runs faster')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the pruned model (written atomically)')
    .option('--sparsity <s>', 'fraction of weights to zero per layer, or of channels to remove per group (0.5 or 50%); with --max-drop, the most to try')
    .option('--method <method>', `${PRUNE_METHODS.join(', ')} (default magnitude; wanda and sparsegpt need --calib; channel shrinks the tensors)`)
    .option('--scope <scope>', `${PRUNE_SCOPES.join(', ')}: the same sparsity in each layer (default), one global threshold, or per-layer sparsities chosen from a sensitivity scan (needs --calib)`)
    .option('--pattern <N:M>', 'semi-structured: keep N of every M weights along the reduction (e.g. 2:4, the pattern NVIDIA sparse tensor cores run)')
    .option('--calib <data>', 'calibration data (.npz named after the model inputs, ...): Wanda norms, SparseGPT Hessians, channel scores and reconstruction')
    .option('--calib-size <n>', 'calibration samples to use (default 128)')
    .option('--exclude <patterns>', 'leave these alone: node names, op types, globs, /regex/ (repeatable, comma-separated)', list, [])
    .option('--include-first-last', 'also prune the first and last weighted layers (left dense by default)')
    .option('--max-drop <points>', 'accuracy budget in points (top-1 with labels, else agreement with the original): the largest sparsity up to --sparsity within it, measured on --eval-data')
    .option('--eval-data <data>', 'data for --max-drop and the accuracy report (.npz; with a labels array for top-1)')
    .option('--eval-size <n>', 'evaluate on a fixed subset of n samples')
    .option('--importance <kind>', `channel scores: ${CHANNEL_IMPORTANCES.join(', ')} (default activation with --calib, else l2)`)
    .option('--no-reconstruct', 'channel: do not refit the layers after each cut (refit by least squares on --calib by default)')
    .option('--channel-multiple <n>', 'channel: keep channel counts on multiples of n where a group is wide enough (default 8; 1 = exact counts)')
    .option('--damp-percent <f>', 'SparseGPT damping, a fraction of the mean Hessian diagonal (default 0.01)')
    .option('--plan-out <file>', 'also write the pruning plan as JSON')
    .option('--save-recipe <file>', 'also write the recipe of this run (options and the plan: every layer\'s sparsity or the channels cut, whatever search chose them) as JSON, and its lock next to it (r.json: r.lock.json)')
    .option('--recipe <file>', 'replay a recipe from --save-recipe: the same model, byte for byte, without scanning or searching (methods that compute with data read the file the recipe names again, or --calib)')
    .option('--locked', 'with --recipe: fail (exit 2) when the model or the data differ from the hashes in the recipe\'s lock (default: a note)')
    .option('--print-plan', 'print the plan (every layer, group and unit removed)')
    .option('--no-latency', 'skip timing the original and pruned models')
    .option('--json', 'print the report as JSON (schema slimnet.prune/1)')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', `${VERBOSE_HELP}; list every layer, group and skipped node`)
    .addHelpText('after', examplesText([
      'slimnet prune fixtures/models/resnet_bn.onnx -o out/resnet.sparse.onnx --sparsity 0.5 --no-latency',
      'slimnet prune fixtures/models/resnet_bn.onnx -o out/resnet.slim.onnx --method channel --sparsity 0.3 --calib fixtures/data/fmnist_calib.npz --calib-size 32 --no-latency --save-recipe out/resnet.slim.recipe.json',
    ]))
    .action(action(async (modelPath: string, flags: PruneFlags, command: Command) => {
      let options: PruneOptions;
      let recipe: Recipe | undefined;
      if (flags.recipe) {
        rejectWithRecipe(command);
        recipe = readRecipe(flags.recipe);
        onlyStep(recipe, flags.recipe, 'prune');
        options = {};
      } else {
        options = pruneOptions(flags, command.getOptionValueSource('reconstruct') === 'cli');
        resolvePruneOptions(options); // every flag checked before the model is read
      }
      const model = loadModel(modelPath);
      checkRuntimeSupport(model, modelPath);
      checkPruneOutputs(model, modelPath, flags);
      let replay: StepReplay | undefined;
      if (flags.recipe && recipe) {
        replay = replayStep(flags.recipe, recipe, recipe.steps[0]!, model, { ...(flags.calib ? { calibration: flags.calib } : {}), locked: flags.locked ?? false });
        for (const d of [...replay.hashes, ...replay.notes]) note(`note: ${d}`);
        // The evaluation data only feeds the report here: the plan is fixed.
        options = { ...(replay.options as PruneOptions), ...(flags.evalData ? { evalData: flags.evalData } : {}), ...(flags.evalSize ? { evalSize: num('--eval-size', flags.evalSize, true)! } : {}) };
      }
      const resolved = resolvePruneOptions(options);
      const engine = new Engine({ intraOpThreads: 1, interOpThreads: 1 });
      let code = 0;
      try {
        const progress = !flags.json ? terminalProgress() : undefined;
        const result = await prune(model, { ...options, engine, ...(progress ? { onProgress: progress } : {}) });
        if (replay) {
          const differs = outputDifference(replay, result.model);
          if (differs) note(`note: ${differs}`);
        }
        // The model and the plan are written in full to temporary files, then renamed together.
        const files: [string, string][] = flags.planOut ? [[flags.planOut, `${JSON.stringify(result.plan, null, 2)}\n`]] : [];
        if (flags.saveRecipe) {
          const data: Record<string, unknown> = { ...(resolved.calibration !== undefined ? { calibration: resolved.calibration } : {}), ...(resolved.evalData !== undefined ? { evalData: resolved.evalData } : {}) };
          const step = pruneStep(resolved, result.plan, stepData(flags.saveRecipe, resolved.calibration));
          files.push(...recipeFiles(flags.saveRecipe, [{ prune: step }], { model, output: result.model, data }));
        }
        commitWith([stageModel(result.model, flags.output)], files);
        const check = await checkPruned(model, result.model, {
          engine, latency: flags.latency,
          ...(resolved.evalData !== undefined ? { evalData: resolved.evalData } : {}),
          ...(resolved.evalSize !== undefined ? { evalSize: resolved.evalSize } : {}),
          ...(resolved.calibration !== undefined ? { calibration: resolved.calibration } : {}),
        });
        const report: PruneReport = {
          schema: 'slimnet.prune/1',
          input: { path: modelPath },
          output: { path: flags.output },
          settings: pruneSettings(resolved),
          summary: result.summary,
          check,
        };
        if (check.latency) report.cpu = detectHardware().cpuModel;
        // --max-drop with no sparsity inside the budget: the unpruned model is written, exit 11 as in quantize.
        if (resolved.maxDrop !== undefined && !result.summary.search?.some((t) => t.withinBudget)) code = EXIT_BUDGET_MISSED;
        if (flags.json) printJson(report);
        else {
          if (flags.printPlan) print(formatPlan(result.plan));
          print(formatPruneReport(report, { verbose: flags.verbose ?? false }));
        }
      } finally {
        await engine.close();
      }
      return code;
    }));
}

/**
 * Every output (-o, --plan-out) checked before any work: writable, distinct, and neither the
 * model, its external data nor the data the command reads.
 */
function checkPruneOutputs(model: Model, modelPath: string, flags: PruneFlags): void {
  const outputs: OutputPath[] = [{ flag: '-o', path: flags.output }];
  if (flags.planOut) outputs.push({ flag: '--plan-out', path: flags.planOut });
  if (flags.saveRecipe) outputs.push({ flag: '--save-recipe', path: flags.saveRecipe }, { flag: '--save-recipe (its lock)', path: lockPathFor(flags.saveRecipe) });
  const inputs: InputPath[] = modelFiles(model, modelPath).map((path, i) => ({ what: i === 0 ? 'the input model' : "the input model's external data", path }));
  if (flags.calib) inputs.push({ what: 'the calibration data (--calib)', path: flags.calib });
  if (flags.evalData) inputs.push({ what: 'the evaluation data (--eval-data)', path: flags.evalData });
  if (flags.recipe) inputs.push(...recipeInputs(flags.recipe));
  checkOutputs(outputs, inputs);
}

/** Flags that do not shape the model (outputs, report, data of the report); the rest come from the recipe. */
const RECIPE_COMPANIONS = new Set(['output', 'json', 'verbose', 'quiet', 'planOut', 'printPlan', 'saveRecipe', 'recipe', 'locked', 'calib', 'evalData', 'evalSize', 'latency']);

function rejectWithRecipe(command: Command): void {
  for (const opt of command.options) {
    const key = opt.attributeName();
    if (command.getOptionValueSource(key) === 'cli' && !RECIPE_COMPANIONS.has(key)) throw new OptionError(`${opt.long} cannot be combined with --recipe: the recipe fixes the options and the plan`);
  }
  if ((command.opts() as { exclude?: string[] }).exclude?.length) throw new OptionError('--exclude cannot be combined with --recipe: the recipe fixes the options and the plan');
}
