/** Options of dynamic quantization, validated once. */
import { OptionError } from '../../errors.js';
import type { ProgressListener } from '../../progress.js';
import type { Engine } from '../../runtime/engine.js';
import { checkTargetName } from '../../target/resolve.js';
import { WEIGHT_POLICIES, type WeightPolicy } from '../weight-encoding.js';
import { nameList } from '../name-list.js';

export type DynamicOpType = 'MatMul' | 'Gemm' | 'LSTM' | 'Attention' | 'Gather' | 'Conv' | 'ConvTranspose';
export const DYNAMIC_OP_TYPES: readonly DynamicOpType[] = ['MatMul', 'Gemm', 'LSTM', 'Attention', 'Gather', 'Conv', 'ConvTranspose'];
/** Ops whose weights dynamic mode stores in int8 while they compute in float (see conv-storage.ts). */
export const STORED_WEIGHT_OPS: ReadonlySet<DynamicOpType> = new Set(['Conv', 'ConvTranspose']);

/**
 * 'contrib' emits com.microsoft.DynamicQuantizeMatMul; 'onnx' emits standard ops
 * (DynamicQuantizeLinear, MatMulInteger, Cast, Mul) that any runtime can run. ONNX Runtime fuses the
 * 'onnx' form into DynamicQuantizeMatMul at its default optimization level, so both run alike there
 * (128x768x768, 1 thread: 0.239 vs 0.240 ms); at 'basic' the unfused form is ~10% slower
 * (0.323 vs 0.295 ms), which is why 'contrib' is the default.
 */
export type DynamicFormat = 'contrib' | 'onnx';

export interface DynamicQuantizeOptions {
  /** One weight scale per output channel (default true; per-tensor is no faster on ORT CPU, measured). */
  perChannel?: boolean;
  format?: DynamicFormat;
  /**
   * Op types to quantize (default MatMul, Gemm, LSTM, Attention: com.microsoft.Attention from ORT's
   * transformer optimizer; Conv and ConvTranspose, whose weights are stored in int8 while they
   * compute in float, see conv-storage.ts). 'Gather' adds int8 embedding tables.
   */
  opTypes?: DynamicOpType[];
  /**
   * The machine the model will run on ('host', the default, is this one; see src/target/targets.ts):
   * it decides how weights are stored so that its int8 kernels compute exactly.
   */
  target?: string;
  /**
   * Weight storage (default 'auto': int8 where the target sums u8 x s8 exactly; on x86 without VNNI,
   * per weight, int8 within the int16 pair budget or uint8 for the U8U8 kernels, whichever loses less).
   */
  weights?: WeightPolicy;
  /**
   * 7-bit weights ([-64, 64]) everywhere: exact on every x86 CPU, but coarser than what 'auto'
   * chooses; kept for parity with ONNX Runtime's reduce_range.
   */
  reduceRange?: boolean;
  /** Nodes to leave alone: node names, op types, globs (*, ?) or /regex/ on names (as --exclude for static). */
  exclude?: string[];
  /** Engine used to detect the host's int8 arithmetic (default: a temporary one). */
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedDynamicOptions {
  perChannel: boolean;
  format: DynamicFormat;
  opTypes: Set<DynamicOpType>;
  reduceRange: boolean;
  target: string;
  weights: WeightPolicy;
  exclude: string[];
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function resolveDynamicOptions(o: DynamicQuantizeOptions = {}): ResolvedDynamicOptions {
  const format = o.format ?? 'contrib';
  if (format !== 'contrib' && format !== 'onnx') throw new OptionError(`--format '${String(format)}' is not a dynamic format; use contrib or onnx`);
  const opTypes = nameList(o.opTypes, '--ops') ?? ['MatMul', 'Gemm', 'LSTM', 'Attention', 'Conv', 'ConvTranspose'];
  for (const t of opTypes) {
    if (!DYNAMIC_OP_TYPES.includes(t)) throw new OptionError(`--ops: '${String(t)}' cannot be quantized dynamically; choose from ${DYNAMIC_OP_TYPES.join(', ')}`);
  }
  const weights = o.weights ?? 'auto';
  if (!WEIGHT_POLICIES.includes(weights)) throw new OptionError(`--weights must be one of ${WEIGHT_POLICIES.join(', ')} (got '${String(weights)}')`);
  return {
    perChannel: o.perChannel ?? true,
    format,
    opTypes: new Set(opTypes),
    reduceRange: o.reduceRange ?? false,
    target: checkTargetName(o.target ?? 'host'),
    weights,
    exclude: nameList(o.exclude, '--exclude') ?? [],
    signal: o.signal,
    onProgress: o.onProgress,
  };
}

/** The resolved options, for reports. */
export function dynamicSettings(o: ResolvedDynamicOptions, target: string): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = {
    format: o.format,
    target,
    weights: `${o.reduceRange ? 'int8 7-bit' : o.weights} ${o.perChannel ? 'per-channel' : 'per-tensor'}`,
    activations: 'uint8 at run time',
    opTypes: [...o.opTypes].join(','),
  };
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  return s;
}
