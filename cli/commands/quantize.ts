import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { commitWith } from '../../src/onnx/atomic-write.js';
import { loadModel, stageModel, type SaveOptions, type StagedModel } from '../../src/onnx/io.js';
import { saveLike, spillFor } from '../model-save.js';
import type { Model } from '../../src/ir/model.js';
import { modelFiles } from '../../src/eval/hash.js';
import { checkRuntimeSupport } from '../../src/runtime/ort-support.js';
import { quantize, checkMode, type OtherModeOptions, type QuantizeOptions } from '../../src/quantize/quantize.js';
import type { QuantizeResult } from '../../src/quantize/types.js';
import { otherModeOptions, rejectForeignFlags, type ModeFlags } from './quantize-modes.js';
import { formatPlan } from '../../src/quantize/static/plan.js';
import { countDecisions, formatQuantizeReport, type QuantizeReport } from '../../src/quantize/report.js';
import { formatQuantizeHtml } from '../../src/quantize/report-html.js';
import { quantizeStep } from '../../src/recipe/quantize-recipe.js';
import { onlyStep, readRecipe, type QuantizeRecipeStep } from '../../src/recipe/recipe.js';
import { outputDifference, recipeFiles, replayStep, stepData, type StepReplay } from '../../src/recipe/replay.js';
import type { StaticQuantizeResult } from '../../src/quantize/static/quantize-static.js';
import { lockPathFor } from '../../src/recipe/lock.js';
import type { StaticQuantizeOptions } from '../../src/quantize/static/options.js';
import { OptionError } from '../../src/errors.js';
import { TARGET_CHOICES } from '../../src/target/targets.js';
import type { Command as CommanderCommand } from 'commander';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { terminalProgress } from '../progress.js';
import { note, print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { checkOutputs, type InputPath, type OutputPath, recipeInputs } from '../outputs.js';
import { refuseConflicts, type FlagRule } from '../conflicts.js';

interface QuantizeFlags extends ModeFlags {
  output: string;
  mode: string;
  calib?: string;
  calibSize?: string;
  ranges?: string;
  method?: string;
  percentile?: string;
  format?: string;
  placement?: string;
  perChannel: boolean;
  activations?: string;
  weights?: string;
  target?: string;
  symmetricActivations?: boolean;
  reduceRange?: boolean;
  exclude: string[];
  opTypes?: string[];
  preprocess: boolean;
  requantize?: boolean;
  storeConstants: boolean;
  planOut?: string;
  printPlan?: boolean;
  maxDrop?: string;
  evalData?: string;
  metric?: string;
  evalLimit?: string;
  prefer?: string;
  timeBudget?: string;
  timingBatch?: string;
  fallback?: string;
  equalization?: string;
  biasCorrection?: string;
  smoothQuant?: string;
  smoothQuantAlpha?: string;
  report?: string;
  recipe?: string;
  saveRecipe?: string;
  json?: boolean;
  verbose?: boolean;
  force?: boolean;
  locked?: boolean;
}

/** Exit code when the accuracy budget is missed (the most accurate model found is still written). */
export const EXIT_BUDGET_MISSED = 11;

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
/** Kept whole: a comma may belong to a regular expression ({1,2}); parseLayerWeights splits. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

function number(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new OptionError(`${flag} must be ${integer ? 'an integer' : 'a number'} (got '${value}')`);
  return n;
}

/** Flags that contradict each other or do nothing together (flags of another mode: rejectForeignFlags). */
const ANY_MODE_RULES: FlagRule[] = [];

const STATIC_RULES: FlagRule[] = [
  { given: ['calib', 'ranges'], message: '--calib and --ranges both give the ranges: use --ranges to reuse the ones slimnet calibrate saved, or --calib to calibrate now, not both' },
  { given: ['ranges', 'calibSize'], message: '--calib-size limits the samples of --calib; the ranges in --ranges are already computed' },
  { given: ['ranges', 'method'], message: '--method chooses how --calib data becomes ranges; --ranges already holds them (run slimnet calibrate --method ... to change it)' },
  { given: ['ranges', 'percentile'], message: '--percentile applies to calibrating with --calib; --ranges already holds the ranges' },
  { given: ['percentile'], when: (o) => o.method !== 'percentile', message: '--percentile only applies to --method percentile; add --method percentile or drop --percentile' },
  { given: ['printPlan', 'json'], message: '--print-plan prints text and --json prints the report as JSON; use --plan-out FILE for the plan as JSON' },
  // Equalization and SmoothQuant change the tensors whose ranges are calibrated: ranges from a file were taken before.
  { given: ['ranges', 'equalization'], when: (o) => o.equalization === 'on', message: '--equalization on changes the model before its ranges are calibrated; ranges from --ranges were recorded on the unchanged model: use --calib DATA instead' },
  { given: ['ranges', 'smoothQuant'], when: (o) => o.smoothQuant === 'on', message: '--smooth-quant on changes the model before its ranges are calibrated; ranges from --ranges were recorded on the unchanged model: use --calib DATA instead' },
  { given: ['smoothQuantAlpha', 'smoothQuant'], when: (o) => o.smoothQuant === 'off', message: '--smooth-quant-alpha only applies with SmoothQuant on: drop --smooth-quant off, or the alpha' },
];

const OTHER_MODE_RULES: FlagRule[] = [
  { given: ['calibSize'], when: (o) => o.calib === undefined, message: '--calib-size limits the samples of --calib; give --calib too, or drop --calib-size' },
  { given: ['dampPercent'], when: (o) => o.algorithm !== 'gptq', message: '--damp-percent only applies to --algorithm gptq' },
  { given: ['calib'], when: (o) => o.mode === 'weight-only' && o.algorithm !== 'gptq' && o.algorithm !== 'awq', message: '--mode weight-only reads --calib only with --algorithm gptq or awq (rtn rounds each weight on its own); add --algorithm gptq or drop --calib' },
  { given: ['accuracyLevel'], when: (o) => o.format === 'qdq', message: '--accuracy-level is a MatMulNBits attribute; --format qdq has none' },
];

function rejectConflicts(mode: string, command: CommanderCommand): void {
  refuseConflicts(command, [...ANY_MODE_RULES, ...(mode === 'static' ? STATIC_RULES : OTHER_MODE_RULES)]);
}

function toOptions(f: QuantizeFlags): StaticQuantizeOptions {
  if (!f.calib && !f.ranges) throw new OptionError('static quantization needs calibration data: --calib DATA (a .npz named after the model inputs) or --ranges ranges.json from slimnet calibrate');
  const o: StaticQuantizeOptions = {
    perChannel: f.perChannel,
    preprocess: f.preprocess,
    storeConstants: f.storeConstants,
    exclude: f.exclude,
    symmetricActivations: f.symmetricActivations ?? false,
    reduceRange: f.reduceRange ?? false,
  };
  if (f.calib) o.calibration = f.calib;
  if (f.ranges) o.ranges = f.ranges;
  if (f.requantize) o.requantize = true;
  if (f.method) o.method = f.method as StaticQuantizeOptions['method'];
  if (f.format) o.format = f.format as StaticQuantizeOptions['format'];
  if (f.placement) o.placement = f.placement as StaticQuantizeOptions['placement'];
  if (f.activations) o.activations = f.activations as StaticQuantizeOptions['activations'];
  if (f.weights) o.weights = f.weights as StaticQuantizeOptions['weights'];
  if (f.target) o.target = f.target;
  if (f.opTypes) o.opTypes = f.opTypes;
  const p = number('--percentile', f.percentile);
  if (p !== undefined) o.percentile = p;
  const maxDrop = number('--max-drop', f.maxDrop);
  if (maxDrop !== undefined) o.maxDrop = maxDrop;
  if (f.evalData) o.evalData = f.evalData;
  if (f.metric) o.metric = f.metric;
  const evalLimit = number('--eval-limit', f.evalLimit, true);
  if (evalLimit !== undefined) o.evalLimit = evalLimit;
  if (f.prefer) o.prefer = f.prefer as StaticQuantizeOptions['prefer'];
  const timeBudget = number('--time-budget', f.timeBudget);
  if (timeBudget !== undefined) o.timeBudget = timeBudget;
  const timingBatch = number('--timing-batch', f.timingBatch, true);
  if (timingBatch !== undefined) o.timingBatch = timingBatch;
  if (f.fallback) o.fallback = f.fallback as StaticQuantizeOptions['fallback'];
  const n = number('--calib-size', f.calibSize, true);
  if (n !== undefined) o.calibSize = n;
  // Recovery: values are checked by the API (resolveRecovery), which names the flag.
  if (f.equalization) o.equalization = f.equalization as StaticQuantizeOptions['equalization'];
  if (f.biasCorrection) o.biasCorrection = f.biasCorrection as StaticQuantizeOptions['biasCorrection'];
  if (f.smoothQuant) o.smoothQuant = f.smoothQuant as StaticQuantizeOptions['smoothQuant'];
  if (f.smoothQuantAlpha !== undefined) o.smoothQuantAlpha = f.smoothQuantAlpha === 'search' ? 'search' : number('--smooth-quant-alpha', f.smoothQuantAlpha)!;
  return o;
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description('quantize a model: static int8 (calibrated activations), dynamic int8, weight-only int4/int8, or fp16')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the quantized model (written atomically)')
    .option('--mode <mode>', 'static (default), dynamic (no data), weight-only (MatMul weights in 4/8 bits), fp16', 'static')
    .option('--calib <data>', 'calibration data: .npz with arrays named after the model inputs (first axis = samples); static, weight-only GPTQ, fp16 range check')
    .option('--calib-size <n>', 'use at most n calibration samples')
    .option('--ranges <file>', 'ranges.json written by slimnet calibrate (instead of --calib)')
    .option('--method <method>', 'range estimator: mse (default, least quantization error), minmax, percentile, entropy')
    .option('--percentile <p>', 'for --method percentile (e.g. 99.99)')
    .option('--format <format>', 'static: qdq (default) or qoperator; dynamic: contrib (DynamicQuantizeMatMul, default) or onnx; weight-only: matmulnbits (default) or qdq')
    .option('--placement <profile>', 'which ops get int8 kernels: auto (default: int8 only where measured faster than float, per region), full, compute, weights, storage (all float, int8-stored constants)')
    .option('--no-store-constants', 'static: keep the constants of float ops in float (default: weights, and position tables/biases at >= 40 dB, stored as int8 that ONNX Runtime decodes at load)')
    .option('--no-per-channel', 'one scale per weight tensor instead of one per output channel')
    .option('--activations <type>', 'static: uint8 (default), int8, uint16, int16; weight-only: float32 (default) or float16 (q4f16: float16 activations, MatMulNBits with float16 scales, float32 model inputs and outputs)')
    .option('--target <name>', `the machine the model will run on (static, dynamic): ${TARGET_CHOICES.join(', ')}; default host, this machine. It decides how weights are stored so the int8 kernels there are exact, and where placements are timed`)
    .option('--weights <type>', 'static, dynamic: auto (default: int8, or on x86 without VNNI uint8 / int8 within the int16 pair budget, per weight), int8, uint8, int8-safe; weight-only: int4 (default) or int8')
    .option('--block-size <n>', 'weight-only: rows of K per scale, a power of two >= 16 (default 32)')
    .option('--layer-weights <rules>', "weight-only: per-layer bits and block size, REGEX=int4|int8[:BLOCK] (or REGEX=:BLOCK), tested against node and weight names, first match wins (repeatable, comma-separated), e.g. 'down_proj=int8,lm_head=int8:128'", collect)
    .option('--symmetric', 'weight-only: symmetric blocks (no zero point)')
    .option('--algorithm <name>', 'weight-only: rtn (default), gptq or awq (both need --calib)')
    .option('--accuracy-level <n>', 'weight-only MatMulNBits: 0 (fp32 math), 1, 2, 3, or 4 (int8 activations; default, measured fastest)')
    .option('--damp-percent <f>', 'weight-only GPTQ: damping as a fraction of the mean Hessian diagonal (default 0.01)')
    .option('--no-keep-io-types', 'fp16: make the model inputs and outputs float16 too')
    .option('--block-ops <types>', 'fp16: more op types to keep in float32 (comma-separated)', list)
    .option('--symmetric-activations', 'zero point in the middle of the activation range')
    .option('--reduce-range', '7-bit weights everywhere (ONNX Runtime\'s reduce_range; --target already keeps int8 exact on x86 without VNNI)')
    .option('--exclude <patterns>', 'keep these in float: node names, op types, globs, /regex/ (repeatable, comma-separated)', list, [])
    .option('--op-types <types>', 'quantize only these op types (comma-separated; dynamic: MatMul,Gemm,LSTM,Attention,Conv,ConvTranspose,Gather; weight-only: MatMul,Gemm,Gather)', list)
    .option('--requantize', "static: re-quantize a model ONNX Runtime's dynamic quantizer made (ConvInteger/MatMulInteger): its int8 weights kept exactly as given, activations calibrated, a static QDQ model written")
    .option('--no-preprocess', 'skip BatchNorm/constant folding by ONNX Runtime first (static, fp16)')
    .option('--max-drop <x>', 'static: accuracy budget: the fastest model that loses at most x on --eval-data (top-1 points by default); layers are kept in float until it fits; exit 11 if nothing does (the most accurate model is written)')
    .option('--eval-data <data>', 'with --max-drop: evaluation data (.npz named after the model inputs, with labels for top-1)')
    .option('--metric <name>', 'with --max-drop: top1 (default with labels), agreement (with the float model; default without), sqnr (RMS error %), or a metric module .mjs')
    .option('--eval-limit <n>', 'with --max-drop: evaluate on at most n samples (default 1000)')
    .option('--prefer <what>', 'with --max-drop: among the models inside the budget, speed (default), size or accuracy')
    .option('--time-budget <s>', 'with --max-drop: stop searching after s seconds and keep the best model so far')
    .option('--timing-batch <n>', 'static: samples per run when placements are timed against float (default 1): the batch the model will be deployed at; --calib must hold n samples')
    .option('--fallback <precision>', 'with --max-drop: what layers over budget become: float (the only choice on CPU)')
    .option('--equalization <when>', 'static: cross-layer equalization of consecutive convolutions, with high-bias absorption: auto (default: on with --no-per-channel), on, off')
    .option('--bias-correction <when>', 'static: shift each int8 layer\'s bias by the mean error of its weight rounding, measured on --calib: auto (default: on with --no-per-channel after an equalization), on, off, or analytic (means from the BatchNorm before each layer, no data)')
    .option('--smooth-quant <when>', 'static: SmoothQuant, activation outliers of LayerNorm -> MatMul moved into the weights: auto (default: off, see docs), on, off')
    .option('--smooth-quant-alpha <a>', 'static: SmoothQuant migration strength in [0, 1], or search (default: per layer, by predicted error; layers without gain left alone)')
    .option('--plan-out <file>', 'also write the quantization plan as JSON')
    .option('--report <file>', 'static: also write the report: .html (with the accuracy budget\'s Pareto plot) or .json')
    .option('--save-recipe <file>', 'also write the recipe of this run (every mode: options, ranges, every decision the searches made) as JSON, and its lock (versions, CPU, model and data hashes) next to it (r.json: r.lock.json)')
    .option('--recipe <file>', 'replay a recipe from --save-recipe: the same model, byte for byte, without calibrating or searching (weight-only GPTQ reads the data the recipe names again, or --calib)')
    .option('--locked', 'with --recipe: fail (exit 2) when the model or the data differ from the hashes in the recipe\'s lock (default: a note)')
    .option('--print-plan', 'print the plan (every tensor with its scale and zero point)')
    .option('--json', 'print the report as JSON (schema slimnet.quantize/1)')
    .option('--force', 'allow -o to replace the input model (by default an output may not overwrite an input)')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', `${VERBOSE_HELP}; list every node left in float and every unfused group`)
    .addHelpText('after', examplesText([
      'slimnet quantize fixtures/models/resnet_bn.onnx -o out/resnet.int8.onnx --calib fixtures/data/fmnist_calib.npz --calib-size 32 --placement full',
      'slimnet quantize fixtures/models/vit_tiny.onnx -o out/vit.dyn.onnx --mode dynamic --save-recipe out/vit.dyn.recipe.json',
      'slimnet quantize fixtures/models/vit_tiny.onnx -o out/vit.int4.onnx --mode weight-only --block-size 32 --layer-weights fc2=int8,head=int8:64',
      'slimnet quantize fixtures/models/resnet_bn.onnx -o out/resnet.fp16.onnx --mode fp16 --json',
    ]))
    .action(action(async (modelPath: string, flags: QuantizeFlags, command: CommanderCommand) => {
      let mode = checkMode(flags.mode);
      // A recipe fixes the mode; its flags are checked against the recipe's own mode below.
      if (!flags.recipe) {
        rejectForeignFlags(mode, command);
        rejectConflicts(mode, command);
      }
      const { model, inputBytes, save } = loadAndCheckOutputs(modelPath, flags);
      let options: QuantizeOptions;
      let replay: StepReplay | undefined;
      if (flags.recipe) {
        rejectWithRecipe(command);
        const recipe = readRecipe(flags.recipe);
        const step = onlyStep(recipe, flags.recipe, 'quantize') as { quantize: QuantizeRecipeStep };
        if (command.getOptionValueSource('mode') === 'cli' && step.quantize.mode !== mode) throw new OptionError(`--mode ${mode}: the recipe ${flags.recipe} is a --mode ${step.quantize.mode} recipe; drop --mode`);
        mode = step.quantize.mode;
        replay = replayStep(flags.recipe, recipe, step, model, { ...(flags.calib ? { calibration: flags.calib } : {}), locked: flags.locked ?? false });
        for (const d of [...replay.hashes, ...replay.notes]) note(`note: ${d}`);
        options = replay.options as QuantizeOptions;
      } else {
        options = mode === 'static' ? toOptions(flags) : otherModeOptions(mode, flags);
      }
      // Ctrl-C exits through cli/interrupt.ts; outputs are temp files until the end, so no partial output remains.
      const progress = flags.json ? undefined : terminalProgress();
      const spill = spillFor(mode, save, flags.output);
      try {
        const result = await quantize(model, {
          ...options,
          ...(spill ? { spill } : {}),
          ...(progress ? { onProgress: progress } : {}),
        } as OtherModeOptions);
        if (replay) {
          const differs = outputDifference(replay, result.model);
          if (differs) note(`note: ${differs}`);
        }
        // Every output is written in full to a temporary file first, then all are renamed together.
        const staged = stageModel(result.model, flags.output, save);
        const saved = staged.result;
        const report: QuantizeReport = {
          schema: 'slimnet.quantize/1',
          input: { path: modelPath, bytes: inputBytes },
          output: { path: flags.output, bytes: saved.bytes + (saved.externalDataBytes ?? 0) },
          mode,
          settings: result.settings,
          counts: countDecisions(result.summary),
          summary: result.summary,
        };
        const st = result as Partial<StaticQuantizeResult>;
        if (st.calibration) report.calibration = st.calibration;
        if (st.speedCheck) report.speedCheck = st.speedCheck;
        if (st.budget) report.budget = st.budget;
        const files: ([string, string] | undefined)[] = [
          flags.planOut && st.plan ? [flags.planOut, json(st.plan)] : undefined,
          flags.report ? [flags.report, renderReport(flags.report, report)] : undefined,
        ];
        if (flags.saveRecipe) files.push(...saveQuantizeRecipe(flags.saveRecipe, model, options, result, replay));
        commitWithModel(staged, files);
        if (flags.json) printJson(report);
        else {
          if (flags.printPlan && st.plan) print(formatPlan(st.plan));
          print(formatQuantizeReport(report, { verbose: flags.verbose ?? false }));
        }
        return st.budget && st.budget.stop !== 'budget met' ? EXIT_BUDGET_MISSED : 0;
      } finally {
        spill?.dispose();
      }
    }));
}

/** The recipe of this run and its lock (data hashed as given, or as the replayed recipe named it). */
function saveQuantizeRecipe(path: string, model: Model, options: QuantizeOptions, result: QuantizeResult, replay: StepReplay | undefined): [string, string][] {
  const data: Record<string, unknown> = replay ? { ...replay.data } : {};
  const o = options as { calibration?: unknown; evalData?: unknown };
  if (!replay && o.calibration !== undefined) data.calibration = o.calibration;
  if (!replay && o.evalData !== undefined) data.evalData = o.evalData;
  const step = quantizeStep(options, result, stepData(path, data.calibration));
  const target = (result as Partial<StaticQuantizeResult>).target;
  return recipeFiles(path, [{ quantize: step }], {
    model, output: result.model, data,
    ...(target ? { target: target.name, host: target.host } : typeof result.settings.target === 'string' ? { target: result.settings.target } : {}),
  });
}

/** Flags that shape the model come from the recipe; giving them too would be ambiguous. */
const RECIPE_COMPANIONS = new Set(['output', 'mode', 'json', 'verbose', 'quiet', 'report', 'planOut', 'printPlan', 'saveRecipe', 'recipe', 'exclude', 'calib', 'locked', 'force']);

function rejectWithRecipe(command: CommanderCommand): void {
  for (const opt of command.options) {
    const key = opt.attributeName();
    if (command.getOptionValueSource(key) === 'cli' && !RECIPE_COMPANIONS.has(key)) throw new OptionError(`${opt.long} cannot be combined with --recipe: the recipe fixes the options, ranges and decisions`);
  }
  if ((command.opts() as { exclude?: string[] }).exclude?.length) throw new OptionError('--exclude cannot be combined with --recipe: the recipe fixes the options, ranges and decisions');
}

/** --report's format from its name, checked before any work. */
function reportKind(path: string): 'html' | 'json' {
  if (/\.html?$/i.test(path)) return 'html';
  if (/\.json$/i.test(path)) return 'json';
  throw new OptionError(`--report ${path}: use a .html or .json file name`);
}

function renderReport(path: string, report: QuantizeReport): string {
  return reportKind(path) === 'html' ? formatQuantizeHtml(report) : json(report);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Loads the model, then checks every output (-o, --plan-out, --save-recipe, --report) against it
 * before any work: writable, distinct, and neither the model, its external data nor a file the
 * command reads (unless --force, which lets -o replace the model itself).
 */
function loadAndCheckOutputs(modelPath: string, flags: QuantizeFlags): { model: Model; inputBytes: number; save: SaveOptions } {
  if (flags.report) reportKind(flags.report);
  const model = loadModel(modelPath);
  checkRuntimeSupport(model, modelPath);
  const outputs: OutputPath[] = [{ flag: '-o', path: flags.output }];
  if (flags.planOut) outputs.push({ flag: '--plan-out', path: flags.planOut });
  if (flags.saveRecipe) outputs.push({ flag: '--save-recipe', path: flags.saveRecipe }, { flag: '--save-recipe (its lock)', path: lockPathFor(flags.saveRecipe) });
  if (flags.report) outputs.push({ flag: '--report', path: flags.report });
  // --force replaces the model itself (in place), never its external data or the other inputs.
  const inputs: InputPath[] = modelFiles(model, modelPath).map((path, i) => (i === 0 ? { what: 'the input model', path, replaceable: true } : { what: "the input model's external data", path }));
  if (flags.calib) inputs.push({ what: 'the calibration data (--calib)', path: flags.calib });
  if (flags.ranges) inputs.push({ what: 'the ranges file (--ranges)', path: flags.ranges });
  if (flags.evalData) inputs.push({ what: 'the evaluation data (--eval-data)', path: flags.evalData });
  if (flags.metric && /\.[cm]?js$/.test(flags.metric)) inputs.push({ what: 'the --metric module', path: flags.metric });
  if (flags.recipe) inputs.push(...recipeInputs(flags.recipe));
  checkOutputs(outputs, inputs, { force: flags.force ?? false });
  // The model file and every external data file it reads: the weights are mostly there.
  const files = modelFiles(model, modelPath);
  return { model, inputBytes: files.reduce((n, f) => n + statSync(f).size, 0), save: saveLike(model, modelPath) };
}

/** Commits the staged model with `files` (path, text): all written in full, then renamed; on failure none remains. */
function commitWithModel(model: StagedModel, files: ([string, string] | undefined)[]): void {
  commitWith([model], files.filter((f): f is [string, string] => f !== undefined));
}
