/** Options of dynamic quantization, validated once. */
import { OptionError } from '../../errors.js';
import type { ProgressListener } from '../../progress.js';

export type DynamicOpType = 'MatMul' | 'Gemm' | 'LSTM' | 'Attention' | 'Gather';
export const DYNAMIC_OP_TYPES: readonly DynamicOpType[] = ['MatMul', 'Gemm', 'LSTM', 'Attention', 'Gather'];

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
   * transformer optimizer). 'Gather' adds int8 embedding tables.
   */
  opTypes?: DynamicOpType[];
  /**
   * 7-bit weights ([-64, 64]): avoids the int16 saturation of u8*s8 products on x86 CPUs without
   * VNNI (AVX2, AVX-512 without VNNI). Costs accuracy; not needed with VNNI.
   */
  reduceRange?: boolean;
  /** Nodes to leave alone: node names, op types, globs (*, ?) or /regex/ on names (as --exclude for static). */
  exclude?: string[];
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedDynamicOptions {
  perChannel: boolean;
  format: DynamicFormat;
  opTypes: Set<DynamicOpType>;
  reduceRange: boolean;
  exclude: string[];
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function resolveDynamicOptions(o: DynamicQuantizeOptions = {}): ResolvedDynamicOptions {
  const format = o.format ?? 'contrib';
  if (format !== 'contrib' && format !== 'onnx') throw new OptionError(`--format '${String(format)}' is not a dynamic format; use contrib or onnx`);
  const opTypes = o.opTypes ?? ['MatMul', 'Gemm', 'LSTM', 'Attention'];
  for (const t of opTypes) {
    if (!DYNAMIC_OP_TYPES.includes(t)) throw new OptionError(`--ops: '${String(t)}' cannot be quantized dynamically; choose from ${DYNAMIC_OP_TYPES.join(', ')}`);
  }
  return {
    perChannel: o.perChannel ?? true,
    format,
    opTypes: new Set(opTypes),
    reduceRange: o.reduceRange ?? false,
    exclude: o.exclude ?? [],
    signal: o.signal,
    onProgress: o.onProgress,
  };
}

/** The resolved options, for reports. */
export function dynamicSettings(o: ResolvedDynamicOptions): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = {
    format: o.format,
    weights: `int8 ${o.perChannel ? 'per-channel' : 'per-tensor'}${o.reduceRange ? ' 7-bit' : ''}`,
    activations: 'uint8 at run time',
    opTypes: [...o.opTypes].join(','),
  };
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  return s;
}
