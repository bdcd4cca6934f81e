/**
 * Options of static quantization: typed, with defaults chosen from measurements on ONNX Runtime's
 * CPU EP (uint8 activations with int8 per-channel weights run the U8S8 VNNI kernels; int8
 * activations run 9-17x slower on x86 unless ORT rewrites them to uint8, which it cannot do on
 * fan-out). Validated once, here; every later step reads the resolved form.
 */
import type { GivenWeight } from './requantize.js';
import type { Dataset } from '../../calibrate/data/dataset.js';
import type { DataSource } from '../../calibrate/data/open.js';
import { PREFERENCES, type Preference } from '../../tune/variants.js';
import type { QuantDecisions } from './decisions.js';
import type { Node } from '../../ir/node.js';
import type { RangeMethod, TensorRange } from '../../calibrate/types.js';
import type { Engine } from '../../runtime/engine.js';
import type { ProgressListener } from '../../progress.js';
import { OptionError } from '../../errors.js';
import type { QuantType } from '../scheme.js';
import { WEIGHT_POLICIES, type WeightPolicy } from '../weight-encoding.js';
import { checkTargetName } from '../../target/resolve.js';
import { resolveRecovery, type RecoveryOptions, type ResolvedRecovery } from './recovery/options.js';
import type { RecoveryData } from './recovery/recovery-data.js';
import { nameList } from '../name-list.js';

export type QuantFormat = 'qdq' | 'qoperator';

/**
 * Which op classes get int8 kernels. ORT's int8 elementwise kernels (QLinearAdd, QLinearSoftmax,
 * ...) pay off in CNNs (they save Q/DQ round trips between convolutions) but are slower than float
 * in transformer blocks, so no single choice is fastest everywhere:
 * - 'full': every op with an int8 kernel;
 * - 'compute': Conv, MatMul (also activation x activation), Gemm, plus data movement;
 * - 'weights': only ops with constant weights (Conv, MatMul with a constant B, Gemm), plus data movement;
 * - 'storage': nothing computes in int8; weights and large constants are stored as int8 and ORT
 *   turns them back into float when it loads the model (smaller file, float speed);
 * - 'auto' (default): times the profiles in ONNX Runtime on a calibration sample, keeps int8 only
 *   for the connected regions whose int8 kernels beat float (ORT's profiler, per node), times the
 *   candidates against float (interleaved runs) and keeps the fastest that is faster than float by
 *   a margin, else 'storage'; falls back to 'full' without data.
 */
export type Placement = 'auto' | 'full' | 'compute' | 'weights' | 'storage';
/** The int8 profiles the automatic search starts from. */
export const PLACEMENT_PROFILES: readonly ('full' | 'compute' | 'weights')[] = ['full', 'compute', 'weights'];
const PLACEMENTS: readonly Placement[] = ['auto', ...PLACEMENT_PROFILES, 'storage'];
export type ActivationType = QuantType;

/** Recovery without retraining (SmoothQuant, equalization, bias correction): see recovery/options.ts. */
export interface StaticQuantizeOptions extends RecoveryOptions {
  /** Calibration data: a Dataset, or a path that `openDataset` understands (.npz, ...). Not needed with `ranges`. */
  calibration?: Dataset | string;
  /** Precomputed ranges (from `slimnet calibrate`, a ranges.json path, or a Map). */
  ranges?: Map<string, TensorRange> | string;
  /**
   * Range estimator (default 'mse': the clipping range with the least quantization error for the
   * target type; on the fixtures it matched or beat minmax, and on PaddleOCR's detector it kept
   * 97% of the map's pixels on the same side of the threshold where minmax kept 82%).
   */
  method?: RangeMethod;
  /** For method 'percentile'. */
  percentile?: number;
  /** Use at most this many calibration samples. */
  calibSize?: number;
  /** 'qdq' (default): QuantizeLinear/DequantizeLinear pairs ORT fuses; 'qoperator': QLinearConv, QLinearMatMul, ... */
  format?: QuantFormat;
  /** Per-channel weight scales (default true). */
  perChannel?: boolean;
  /** Activation type (default 'uint8'). 16-bit types are for accuracy or accelerators: ORT's CPU EP does not fuse them. */
  activations?: ActivationType;
  /**
   * The machine the model will run on ('host', the default, is this one; see src/target/targets.ts).
   * It decides how weights are stored so that its kernels compute exactly, where placements are
   * timed (onnxruntime-web for 'wasm'), and, when this machine cannot time it, the placement.
   */
  target?: string;
  /**
   * Weight storage, symmetric (default 'auto': int8 where the target sums u8 x s8 exactly; on x86
   * without VNNI, per weight, int8 within the int16 pair budget or uint8 + 128 for the U8U8 kernels,
   * whichever loses less). 'int8', 'uint8' and 'int8-safe' force one of them.
   */
  weights?: WeightPolicy;
  /** Symmetric activation ranges (zero point at the middle). Default false. */
  symmetricActivations?: boolean;
  /** 7-bit weights everywhere (ONNX Runtime's reduce_range): exact on every x86, coarser than 'auto'. Default false. */
  reduceRange?: boolean;
  /** Nodes to keep in float: node names, op types, globs on node names ('blocks.3.*') or /regexes/. */
  exclude?: string[];
  /** Only quantize these op types (default: every op type in the op-support table with an int8 kernel). */
  opTypes?: string[];
  /** Which op classes get int8 kernels (default 'auto': the fastest candidate, measured). */
  placement?: Placement;
  /**
   * Store large float constants of ops that stay in float (weights of float Conv/MatMul, position
   * tables, biases) as int8 + Cast/Mul, which ORT folds back to float at load: a smaller file at
   * the same speed. Default true; weights always, other constants only at >= 40 dB SQNR.
   */
  storeConstants?: boolean;
  /** Run ORT's basic-level optimizer first (BatchNorm folding, constant folding). Default true. */
  preprocess?: boolean;
  /**
   * Re-quantize a model made by ONNX Runtime's dynamic quantizer (DynamicQuantizeLinear +
   * ConvInteger / MatMulInteger): its int8 weights are kept exactly as given (integers, scales,
   * zero points), its activations calibrated, and a static QDQ model written. Default false: such
   * a model is refused as already quantized.
   */
  requantize?: boolean;
  /**
   * Accuracy budget: the model chosen (fastest by default) must lose at most this much on
   * `evalData` against the float model, in the metric's drop units (top-1 points by default).
   * Layers are kept in float until it does (budget-search.ts). Needs `evalData`.
   */
  maxDrop?: number;
  /** Evaluation data for `maxDrop` (a path openDataset understands, or a Dataset), with labels for top1. */
  evalData?: DataSource;
  /** 'top1' (default with labels), 'agreement' (default without), 'sqnr' (RMS error %), or a metric module path. */
  metric?: string;
  /** Evaluate on at most this many samples of `evalData` (default 1000). */
  evalLimit?: number;
  /** Among the variants inside the budget: 'speed' (default), 'size' or 'accuracy'. */
  prefer?: Preference;
  /** Seconds the budget search may take; the best model so far is written when it runs out. */
  timeBudget?: number;
  /**
   * What a layer over budget falls back to. 'float' only: ONNX Runtime's CPU EP runs 16-bit and
   * float16 ops in float32 anyway, so float is as fast there and exact.
   */
  fallback?: 'float';
  /**
   * Decisions of an earlier run (result.decisions, or a recipe): rebuild that model without
   * searching, timing or weighing stores again. Give the same ranges (result.ranges) for the same bytes.
   */
  decisions?: QuantDecisions;
  /** Load the result in ORT and report which Q/DQ groups it fused (default true). */
  speedCheck?: boolean;
  /**
   * Samples per run when placements (and the budget's variants) are timed against float (default
   * 1). Whether int8 pays off depends on it: a 28x28 CNN runs in ~0.1 ms at batch 1, where fixed
   * per-op costs dominate, and 2x faster in int8 at batch 32. Set it to the batch the model will
   * be deployed at; the calibration data must hold that many samples.
   */
  timingBatch?: number;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedStaticOptions {
  method: RangeMethod;
  percentile: number | undefined;
  calibSize: number | undefined;
  format: QuantFormat;
  perChannel: boolean;
  activations: ActivationType;
  weights: WeightPolicy;
  /** The --target value ('host' or a name); resolved against this machine by quantizeStatic. */
  target: string;
  /** Whether the resolved target sums u8 x s8 exactly (decides 'auto' weights). */
  u8s8Exact: boolean;
  /** Per weight tensor, a policy that replaces `weights` (decided by weight-store.ts). */
  weightOverrides?: ReadonlyMap<string, WeightPolicy>;
  /** --requantize: weights whose integers, scales and zero points are reused as given (requantize.ts). */
  givenWeights?: ReadonlyMap<string, GivenWeight>;
  /** Ops the target runs slower in int8, with the reason (src/target/wasm-kernels.ts for wasm). */
  targetFloat?: (node: Node) => string | undefined;
  symmetricActivations: boolean;
  reduceRange: boolean;
  /** Which recovery methods run (recovery/options.ts), and what they measured for the planner (bias means). */
  recovery: ResolvedRecovery;
  recoveryData?: RecoveryData;
  exclude: string[];
  opTypes: string[] | undefined;
  placement: Placement;
  storeConstants: boolean;
  preprocess: boolean;
  speedCheck: boolean;
  timingBatch: number;
}

const METHODS: RangeMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];
const ACTIVATIONS: ActivationType[] = ['uint8', 'int8', 'uint16', 'int16'];
const FORMATS: QuantFormat[] = ['qdq', 'qoperator'];

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], flag: string, def: T): T {
  if (value === undefined) return def;
  if (!allowed.includes(value)) throw new OptionError(`${flag} must be one of ${allowed.join(', ')} (got '${value}')`);
  return value;
}

/**
 * Validates the options. `target` is what the resolved target says about the arithmetic (default:
 * exact u8 x s8 sums, for callers that plan without one).
 */
export function resolveStaticOptions(o: StaticQuantizeOptions, target: { u8s8Exact: boolean } = { u8s8Exact: true }): ResolvedStaticOptions {
  const activations = oneOf(o.activations, ACTIVATIONS, '--activations', 'uint8');
  const format = oneOf(o.format, FORMATS, '--format', 'qdq');
  if (format === 'qoperator' && (activations === 'uint16' || activations === 'int16')) {
    throw new OptionError(`--format qoperator has no 16-bit ops (QLinearConv and friends are 8-bit only); use --format qdq with --activations ${activations}`);
  }
  if (o.percentile !== undefined && !(o.percentile > 0 && o.percentile <= 100)) throw new OptionError(`--percentile must be in (0, 100] (got ${o.percentile})`);
  if (o.calibSize !== undefined && !(Number.isInteger(o.calibSize) && o.calibSize > 0)) throw new OptionError(`--calib-size must be a positive integer (got ${o.calibSize})`);
  nameList(o.exclude, '--exclude');
  if (nameList(o.opTypes, '--op-types')?.length === 0) throw new OptionError('--op-types needs at least one op type');
  if (o.maxDrop !== undefined) {
    if (!Number.isFinite(o.maxDrop)) throw new OptionError(`--max-drop must be a number (got ${o.maxDrop})`);
    if (o.evalData === undefined) throw new OptionError('--max-drop needs evaluation data to measure the drop on: --eval-data DATA (.npz with labels for top-1, or any data for --metric agreement)');
  } else {
    for (const [flag, v] of [['--eval-data', o.evalData], ['--metric', o.metric], ['--eval-limit', o.evalLimit], ['--prefer', o.prefer], ['--time-budget', o.timeBudget], ['--fallback', o.fallback]] as const) {
      if (v !== undefined) throw new OptionError(`${flag} only applies with --max-drop (the accuracy budget)`);
    }
  }
  if (o.prefer !== undefined && !PREFERENCES.includes(o.prefer)) throw new OptionError(`--prefer must be one of ${PREFERENCES.join(', ')} (got '${o.prefer}')`);
  if (o.timeBudget !== undefined && !(o.timeBudget > 0)) throw new OptionError(`--time-budget must be a positive number of seconds (got ${o.timeBudget})`);
  if (o.timingBatch !== undefined && !(Number.isInteger(o.timingBatch) && o.timingBatch > 0)) throw new OptionError(`--timing-batch must be a positive integer (got ${o.timingBatch})`);
  if (o.evalLimit !== undefined && !(Number.isInteger(o.evalLimit) && o.evalLimit > 0)) throw new OptionError(`--eval-limit must be a positive integer (got ${o.evalLimit})`);
  if (o.fallback !== undefined && o.fallback !== 'float') {
    throw new OptionError(`--fallback ${String(o.fallback)}: only 'float' is offered, because ONNX Runtime's CPU kernels run 16-bit and float16 ops in float32 anyway (as fast as float, less exact)`);
  }
  if (o.decisions && (o.maxDrop !== undefined || (o.placement !== undefined && o.placement !== 'auto'))) {
    throw new OptionError(`a recipe's decisions replace the search: they cannot be combined with ${o.maxDrop !== undefined ? '--max-drop' : `--placement ${o.placement}`}`);
  }
  if (o.maxDrop !== undefined && o.placement !== undefined && o.placement !== 'auto') {
    throw new OptionError(`--max-drop chooses the placement itself; it cannot be combined with --placement ${o.placement}`);
  }
  if (o.requantize) {
    for (const [flag, v] of [['--equalization', o.equalization], ['--smooth-quant', o.smoothQuant]] as const) {
      if (v === 'on') throw new OptionError(`${flag} on rescales weights, and --requantize keeps the given int8 weights as they are: drop one of them`);
    }
  }
    for (const p of o.exclude ?? []) {
    if (p.startsWith('/') && p.endsWith('/') && p.length > 2) {
      try {
        new RegExp(p.slice(1, -1));
      } catch (err) {
        throw new OptionError(`--exclude ${p}: not a valid regular expression (${(err as Error).message})`);
      }
    }
  }
  return {
    method: oneOf(o.method, METHODS, '--method', 'mse'),
    percentile: o.percentile,
    calibSize: o.calibSize,
    format,
    perChannel: o.perChannel ?? true,
    activations,
    weights: oneOf(o.weights, WEIGHT_POLICIES, '--weights', 'auto'),
    target: checkTargetName(o.target ?? 'host'),
    u8s8Exact: target.u8s8Exact,
    symmetricActivations: o.symmetricActivations ?? false,
    reduceRange: o.reduceRange ?? false,
    recovery: resolveRecovery(o),
    exclude: o.exclude ?? [],
    opTypes: o.opTypes,
    placement: oneOf(o.placement, PLACEMENTS, '--placement', 'auto'),
    storeConstants: o.storeConstants ?? true,
    preprocess: o.preprocess ?? true,
    speedCheck: o.speedCheck ?? true,
    timingBatch: o.timingBatch ?? 1,
  };
}

/** Whether an --exclude entry matches a node: exact name, exact op type, a glob on the name, or /regex/. */
export function excludeMatch(pattern: string, node: { name: string; opType: string }): boolean {
  if (pattern === node.name || pattern === node.opType) return true;
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) return new RegExp(pattern.slice(1, -1)).test(node.name);
  if (/[*?]/.test(pattern)) {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return re.test(node.name);
  }
  return false;
}
