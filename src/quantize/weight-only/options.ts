/** Options of weight-only quantization, validated once. */
import { OptionError } from '../../errors.js';
import type { Dataset } from '../../calibrate/data/dataset.js';
import type { Engine } from '../../runtime/engine.js';
import { checkTargetName } from '../../target/resolve.js';
import type { ProgressListener } from '../../progress.js';
import type { SpillFile } from '../../onnx/spill.js';
import { checkBlockSize, formatLayerRule, resolveLayerWeights, type LayerWeightRule, type ResolvedLayerRule } from './layer-weights.js';
import { nameList } from '../name-list.js';

export type { LayerWeightRule } from './layer-weights.js';

export type WeightOnlyFormat = 'matmulnbits' | 'qdq';
/** The weight-only rounding algorithms: the option check and the pipeline file's key table read this list. */
export const WEIGHT_ONLY_ALGORITHMS = ['rtn', 'gptq', 'awq'] as const;
export type WeightOnlyAlgorithm = (typeof WEIGHT_ONLY_ALGORITHMS)[number];
export type AccuracyLevel = 0 | 1 | 2 | 3 | 4;
export const WEIGHT_ONLY_ACTIVATIONS = ['float32', 'float16'] as const;
export type WeightOnlyActivations = (typeof WEIGHT_ONLY_ACTIVATIONS)[number];
export type WeightOnlyOpType = 'MatMul' | 'Gemm' | 'Gather';
export const WEIGHT_ONLY_OP_TYPES: readonly WeightOnlyOpType[] = ['MatMul', 'Gemm', 'Gather'];

export interface WeightOnlyOptions {
  /** Weight type (default int4). */
  weights?: 'int4' | 'int8';
  /** Rows of K per scale: a power of two >= 16 (default 32). */
  blockSize?: number;
  /**
   * Per-layer bits and block size: rules { match, bits?, blockSize? } whose `match`, a regular
   * expression, is tested against the node name and the weight (or embedding table) name; the first
   * matching rule wins, the others get `weights` and `blockSize`. E.g. [{ match: 'down_proj', bits: 8 }]
   * keeps the down projections in 8 bits. CLI: --layer-weights 'down_proj=int8,lm_head=int8:128'.
   */
  layerWeights?: LayerWeightRule[];
  /** Symmetric blocks (no zero point); default false: asymmetric blocks fit skewed weights better. */
  symmetric?: boolean;
  /**
   * 'rtn' rounds each weight (default); 'gptq' compensates rounding error using calibration data;
   * 'awq' scales input channels by their activation size (searched per input, folded into the
   * preceding norm or MatMul), then rounds.
   */
  algorithm?: WeightOnlyAlgorithm;
  /**
   * MatMulNBits accuracy_level: 0 unset (fp32 math), 1 fp32, 2 fp16, 3 bf16, 4 int8 (the input is
   * quantized per block to int8 at run time). Default 4: on this CPU class (AVX-512 VNNI, ORT 1.30,
   * 1 thread, 128x768x3072) int4 block 32 runs in 2.81 ms at level 4 vs 3.34 ms at level 0 (fp32:
   * 3.71 ms), int4 block 128 in 2.17 vs 3.33 ms and int8 in 2.57 vs 6.07 ms, with the same error
   * against fp32 for int4 (rel. 9.72e-2 vs 9.71e-2).
   */
  accuracyLevel?: AccuracyLevel;
  /**
   * Activation type around the weight-only ops: 'float32' (default) or 'float16', the "q4f16"
   * form transformers.js ships: the whole graph goes through FP16 conversion, MatMulNBits and
   * GatherBlockQuantized included (float16 inputs, outputs and scales), model I/O kept float32.
   * Needs format 'matmulnbits'.
   */
  activations?: WeightOnlyActivations;
  /** 'matmulnbits' (default) or 'qdq': blocked DequantizeLinear -> MatMul (needs ai.onnx opset >= 21). */
  format?: WeightOnlyFormat;
  /** Calibration data (a Dataset or a path, e.g. an .npz named after the model inputs): required by GPTQ. */
  calibration?: Dataset | string;
  /** At most this many calibration samples (GPTQ; default 128). */
  calibSize?: number;
  /** GPTQ damping, as a fraction of the mean Hessian diagonal (default 0.01). */
  dampPercent?: number;
  /**
   * GPTQ/AWQ calibration runs models with more than 1 GiB of weights layer by layer: parts of about
   * this many weight bytes at a time (default 128 MiB, about one decoder layer at 1B scale), so
   * memory holds one part's weights and statistics, not the model's. 0 runs every model whole.
   * Smaller models run whole unless this is given.
   */
  partBytes?: number;
  /**
   * Op types to quantize (default MatMul, Gemm, Gather). 'Gather' covers embedding tables, as
   * com.microsoft.GatherBlockQuantized (RTN; format matmulnbits only): in a language model the
   * table is often the largest single weight (262 MB of 4.4 GB in a 1.1B Llama), and a tied LM
   * head (Gemm transB=1 on the same table) only frees the float table when both are quantized.
   */
  opTypes?: WeightOnlyOpType[];
  /** Nodes to leave alone: node names, op types, globs (*, ?) or /regex/ on names (as --exclude for static). */
  exclude?: string[];
  /**
   * The machine the model will run on (default 'host'). MatMulNBits never saturates (its int8 path
   * multiplies 4/8-bit codes by int8 activations without int16 pair sums), so the target changes
   * no arithmetic here; the summary names it and whether the defaults were measured there.
   */
  target?: string;
  /**
   * Streaming for models larger than memory: each quantized tensor is written to this temporary
   * file as soon as it exists (the caller saves the result, then disposes of the file), so memory
   * holds one weight at a time instead of the whole output.
   */
  spill?: SpillFile;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedWeightOnlyOptions {
  opTypes: Set<WeightOnlyOpType>;
  bits: 4 | 8;
  blockSize: number;
  /** Per-layer rules, validated, defaults filled in. */
  layers: ResolvedLayerRule[];
  symmetric: boolean;
  algorithm: WeightOnlyAlgorithm;
  accuracyLevel: AccuracyLevel;
  /** Whether the caller chose the accuracy level (the QDQ form cannot carry it). */
  accuracyLevelGiven: boolean;
  format: WeightOnlyFormat;
  activations: WeightOnlyActivations;
  calibration?: Dataset | string;
  calibSize: number;
  dampPercent: number;
  /** Weight bytes per part of layer-by-layer calibration; 0: the model runs whole; -1: not given (automatic). */
  partBytes: number;
  exclude: string[];
  target: string;
  spill?: SpillFile;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function resolveWeightOnlyOptions(o: WeightOnlyOptions = {}): ResolvedWeightOnlyOptions {
  const weights = o.weights ?? 'int4';
  if (weights !== 'int4' && weights !== 'int8') throw new OptionError(`--weights '${String(weights)}' is not supported; use int4 or int8`);
  const blockSize = checkBlockSize('--block-size', o.blockSize ?? 32);
  const bits = weights === 'int4' ? 4 : 8;
  const layers = resolveLayerWeights(o.layerWeights, bits, blockSize);
  const algorithm = o.algorithm ?? 'rtn';
  if (!(WEIGHT_ONLY_ALGORITHMS as readonly unknown[]).includes(algorithm)) throw new OptionError(`--algorithm '${String(algorithm)}' is not supported; use rtn, gptq or awq`);
  const accuracyLevel = o.accuracyLevel ?? 4;
  if (![0, 1, 2, 3, 4].includes(accuracyLevel)) throw new OptionError(`--accuracy-level ${String(accuracyLevel)}: use 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8)`);
  const format = o.format ?? 'matmulnbits';
  if (format !== 'matmulnbits' && format !== 'qdq') throw new OptionError(`--format '${String(format)}' is not a weight-only format; use matmulnbits or qdq`);
  const activations = o.activations ?? 'float32';
  if (!(WEIGHT_ONLY_ACTIVATIONS as readonly unknown[]).includes(activations)) throw new OptionError(`--activations '${String(activations)}' is not a weight-only activation type; use float32 (default) or float16 (q4f16)`);
  if (activations === 'float16' && format === 'qdq') throw new OptionError('--activations float16 needs --format matmulnbits: the QDQ form keeps DequantizeLinear in float32, and a Cast between it and the MatMul stops ONNX Runtime from fusing them into MatMulNBits');
  if (algorithm === 'gptq' && !o.calibration) throw new OptionError('--algorithm gptq needs calibration data (--calib <file.npz>): it compensates rounding errors using the inputs each MatMul sees');
  if (algorithm === 'awq' && !o.calibration) throw new OptionError('--algorithm awq needs calibration data (--calib <file.npz>): it scales channels by the activations each MatMul sees');
  const calibSize = o.calibSize ?? 128;
  if (!Number.isInteger(calibSize) || calibSize < 1) throw new OptionError(`--calib-size ${String(calibSize)}: give a positive number of samples`);
  const dampPercent = o.dampPercent ?? 0.01;
  if (!(dampPercent > 0 && dampPercent < 1)) throw new OptionError(`--damp ${String(dampPercent)}: give a fraction between 0 and 1 (e.g. 0.01)`);
  if (o.partBytes !== undefined && !(Number.isFinite(o.partBytes) && o.partBytes >= 0)) throw new OptionError(`partBytes ${String(o.partBytes)}: give a number of bytes (0 runs the model whole)`);
  const opTypes = nameList(o.opTypes, '--op-types') ?? WEIGHT_ONLY_OP_TYPES;
  for (const t of opTypes) {
    if (!WEIGHT_ONLY_OP_TYPES.includes(t)) throw new OptionError(`--op-types: '${String(t)}' cannot be quantized weight-only; choose from ${WEIGHT_ONLY_OP_TYPES.join(', ')}`);
  }
  return {
    opTypes: new Set(opTypes),
    bits,
    blockSize, layers, symmetric: o.symmetric ?? false, algorithm, accuracyLevel, accuracyLevelGiven: o.accuracyLevel !== undefined, format, activations,
    calibration: o.calibration, calibSize, dampPercent, partBytes: o.partBytes ?? -1, exclude: nameList(o.exclude, '--exclude') ?? [], target: checkTargetName(o.target ?? 'host'), spill: o.spill, engine: o.engine, signal: o.signal, onProgress: o.onProgress,
  };
}

/** The resolved options, for reports. */
export function weightOnlySettings(o: ResolvedWeightOnlyOptions, target: string): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = {
    target,
    format: o.format,
    weights: `${o.symmetric ? 'int' : 'uint'}${o.bits}`,
    blockSize: o.blockSize,
    algorithm: o.algorithm,
    opTypes: [...o.opTypes].join(','),
  };
  if (o.format === 'matmulnbits') s.accuracyLevel = o.accuracyLevel;
  if (o.activations !== 'float32') s.activations = o.activations;
  if (o.algorithm !== 'rtn') s.calibSize = o.calibSize;
  if (o.layers.length) s.layerWeights = o.layers.map((l) => formatLayerRule(l.rule)).join(',');
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  return s;
}
