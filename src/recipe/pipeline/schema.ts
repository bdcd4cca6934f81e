/**
 * The pipeline file `slimnet run` reads (YAML or JSON, schema slimnet.pipeline/1): a model and
 * steps (prune, quantize, eval, bench) whose keys are the CLI's flags without the dashes in front.
 *
 *   model: model.onnx
 *   steps:
 *     - prune: { method: channel, sparsity: 0.3, calib: calib.npz, output: model.pruned.onnx }
 *     - quantize: { mode: static, calib: calib.npz, output: model.int8.onnx }
 *     - eval: { data: test.npz, max-drop: 1, fail-if: "speedup < 1.1" }
 *     - bench: { runs: 50 }
 *
 * One table below says every key, its type and the API option it becomes; validation names the
 * line and the key of the first problem. Paths are relative to the pipeline file.
 */
import { QUANTIZE_MODES } from '../../quantize/quantize.js';
import { CHANNEL_IMPORTANCES, PRUNE_METHODS, PRUNE_SCOPES } from '../../prune/options.js';
import { WEIGHT_ONLY_ALGORITHMS } from '../../quantize/weight-only/options.js';
import { parseLayerWeights } from '../../quantize/weight-only/layer-weights.js';

export const PIPELINE_SCHEMA = 'slimnet.pipeline/1';

export type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'strings' | 'path' | 'paths' | 'drop' | 'fraction' | { enum: readonly string[] };

export interface KeySpec {
  kind: Kind;
  /** The API option it becomes (default: the key in camelCase). */
  api?: string;
  required?: boolean;
  help: string;
  /** Turns the checked value (a list for 'strings') into the API's form; throws an OptionError naming what is wrong. */
  parse?: (value: string[]) => unknown;
}

export const STEP_KEYS = {
  quantize: {
    output: { kind: 'path', required: true, help: 'where to write the model (-o)' },
    mode: { kind: { enum: QUANTIZE_MODES }, help: 'static (default), dynamic, weight-only, fp16' },
    calib: { kind: 'path', api: 'calibration', help: 'calibration data' },
    'calib-size': { kind: 'integer', help: 'at most this many calibration samples' },
    recipe: { kind: 'path', help: 'replay a recipe saved by --save-recipe or the wizard (any mode)' },
    'save-recipe': { kind: 'path', help: 'also write the recipe of this step, and its lock beside it' },
    method: { kind: { enum: ['mse', 'minmax', 'percentile', 'entropy'] }, help: 'range estimator' },
    percentile: { kind: 'number', help: 'for method percentile' },
    format: { kind: 'string', help: 'qdq/qoperator, contrib/onnx, matmulnbits/qdq' },
    placement: { kind: { enum: ['auto', 'full', 'compute', 'weights', 'storage'] }, help: 'which ops get int8 kernels' },
    activations: { kind: { enum: ['uint8', 'int8', 'uint16', 'int16', 'float32', 'float16'] }, help: 'activation type (static: 8/16-bit integers; weight-only: float32 or float16)' },
    weights: { kind: 'string', help: 'weight type' },
    target: { kind: 'string', help: 'the machine the model will run on' },
    'per-channel': { kind: 'boolean', help: 'one scale per output channel' },
    'block-size': { kind: 'integer', help: 'weight-only block size' },
    'layer-weights': { kind: 'strings', parse: (v) => parseLayerWeights(v, 'rule'), help: 'weight-only per-layer bits and block size: REGEX=int4|int8[:BLOCK] rules on node and weight names, first match wins (e.g. down_proj=int8)' },
    algorithm: { kind: { enum: WEIGHT_ONLY_ALGORITHMS }, help: 'weight-only algorithm' },
    symmetric: { kind: 'boolean', help: 'weight-only symmetric blocks' },
    'accuracy-level': { kind: 'integer', help: 'MatMulNBits accuracy level' },
    exclude: { kind: 'strings', help: 'nodes or op types kept in float' },
    'op-types': { kind: 'strings', help: 'quantize only these op types' },
    'max-drop': { kind: 'number', help: 'static accuracy budget' },
    'eval-data': { kind: 'path', help: 'evaluation data of the budget' },
    'eval-limit': { kind: 'integer', help: 'samples the budget evaluates' },
    prefer: { kind: { enum: ['speed', 'size', 'accuracy'] }, help: 'within the budget' },
  },
  prune: {
    output: { kind: 'path', required: true, help: 'where to write the pruned model (-o)' },
    sparsity: { kind: 'fraction', help: 'fraction per layer or channel group (0.5 or "50%")' },
    method: { kind: { enum: PRUNE_METHODS }, help: 'magnitude (default), wanda, sparsegpt, channel' },
    scope: { kind: { enum: PRUNE_SCOPES }, help: 'layer (default), global, sensitivity' },
    pattern: { kind: 'string', help: 'N:M semi-structured, e.g. 2:4' },
    calib: { kind: 'path', api: 'calibration', help: 'calibration data (wanda, sparsegpt, channel scores and reconstruction)' },
    'calib-size': { kind: 'integer', help: 'calibration samples' },
    exclude: { kind: 'strings', help: 'nodes or op types left alone' },
    'include-first-last': { kind: 'boolean', help: 'prune the first and last weighted layers too' },
    'max-drop': { kind: 'number', help: 'accuracy budget: the largest sparsity within it' },
    'eval-data': { kind: 'path', help: 'data of the budget' },
    'eval-size': { kind: 'integer', help: 'samples the budget evaluates' },
    importance: { kind: { enum: CHANNEL_IMPORTANCES }, help: 'channel scores' },
    reconstruct: { kind: 'boolean', help: 'channel: refit the next layers (default with calib)' },
    'channel-multiple': { kind: 'integer', help: 'channel: keep counts on multiples of n' },
    'damp-percent': { kind: 'number', help: 'SparseGPT damping' },
    recipe: { kind: 'path', help: 'replay a recipe saved by slimnet prune --save-recipe' },
    'save-recipe': { kind: 'path', help: 'also write the recipe of this step, and its lock beside it' },
  },
  eval: {
    data: { kind: 'path', required: true, help: 'evaluation data' },
    reference: { kind: 'path', help: 'default: the pipeline model' },
    candidate: { kind: 'path', help: 'default: the last model a step wrote' },
    limit: { kind: 'integer', help: 'at most this many samples' },
    runs: { kind: 'integer', help: 'timed runs per model' },
    'max-drop': { kind: 'drop', help: 'gate: points, or "1%" relative' },
    'min-speedup': { kind: 'number', help: 'gate: at least this speedup' },
    'fail-if': { kind: 'string', help: 'gate: an expression over the eval variables' },
  },
  bench: {
    models: { kind: 'paths', help: 'default: the pipeline model and the last model written' },
    runs: { kind: 'integer', help: 'timed runs' },
    warmup: { kind: 'integer', help: 'untimed runs first' },
    batch: { kind: 'integer', help: 'samples per run' },
  },
} satisfies Record<string, Record<string, KeySpec>>;

export type StepKind = keyof typeof STEP_KEYS;
export const STEP_KINDS = Object.keys(STEP_KEYS) as StepKind[];

export interface PipelineStep {
  kind: StepKind;
  /** Where it is in the file, for messages: `pipeline.yaml:12: steps[1].eval ...`. */
  where: string;
  /** The keys as written (the CLI's flag names), with the place of each: `pipeline.yaml:14: steps[1].eval.max-drop`. */
  keys: string[];
  keyWhere: Record<string, string>;
  /** Values by API name (paths resolved against the pipeline file's directory). */
  options: Record<string, unknown>;
}

export interface Pipeline {
  file: string;
  model: string;
  steps: PipelineStep[];
  /** Where to write one recipe of every prune and quantize step, and its lock (top-level save-recipe). */
  saveRecipe?: string;
}

export const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
