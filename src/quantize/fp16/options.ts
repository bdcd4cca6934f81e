/** Options of FP16 conversion, validated once. */
import { OptionError } from '../../errors.js';
import type { Dataset } from '../../calibrate/data/dataset.js';
import type { Engine } from '../../runtime/engine.js';
import type { ProgressListener } from '../../progress.js';
import { nameList } from '../name-list.js';

export interface Fp16Options {
  /** Keep the model's float32 inputs and outputs, with Casts at the boundary (default true). */
  keepIoTypes?: boolean;
  /**
   * Run ONNX Runtime's basic optimizer first (default true): it folds BatchNormalization into the
   * Conv before it and folds constants. An unfused BatchNorm in float16 subtracts nearly equal
   * numbers (the conv output minus its running mean): on PaddleOCR's classifier the largest output
   * deviation from float32 is 3.2% without folding and 0.57% with it.
   */
  preprocess?: boolean;
  /** More op types to keep in float32, on top of the built-in block list. */
  blockOps?: string[];
  /** Nodes to leave alone: node names, op types, globs (*, ?) or /regex/ on names (as --exclude for static). */
  exclude?: string[];
  /**
   * Calibration data (a Dataset or a path) to run through the float32 model first: any node that reads or writes a value beyond the
   * float16 range (+-65504) stays in float32. Without data only constants are checked.
   */
  calibration?: Dataset | string;
  /** At most this many samples of `calibration` (default 128). */
  calibSize?: number;
  /**
   * Replay: the values an earlier run found beyond the float16 range on its data (name -> largest
   * magnitude, the result's `beyondFp16`), used instead of running data again (a recipe).
   */
  beyondFp16?: Record<string, number>;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedFp16Options {
  keepIoTypes: boolean;
  preprocess: boolean;
  blockOps: Set<string>;
  exclude: string[];
  calibration?: Dataset | string;
  calibSize: number;
  beyondFp16?: Record<string, number>;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function resolveFp16Options(o: Fp16Options = {}): ResolvedFp16Options {
  const calibSize = o.calibSize ?? 128;
  if (!Number.isInteger(calibSize) || calibSize < 1) throw new OptionError(`--calib-size ${String(calibSize)}: give a positive number of samples`);
  if (o.beyondFp16 !== undefined && o.calibration !== undefined) throw new OptionError('--calib and a recipe\'s range decisions both say which values exceed float16: give one');
  for (const [name, max] of Object.entries(o.beyondFp16 ?? {})) {
    if (typeof max !== 'number' || !Number.isFinite(max)) throw new OptionError(`beyondFp16.${name} must be a finite number (got ${JSON.stringify(max)})`);
  }
  for (const op of o.blockOps ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(op)) throw new OptionError(`--block-ops: '${op}' is not an op type name`);
  }
  return {
    keepIoTypes: o.keepIoTypes ?? true,
    preprocess: o.preprocess ?? true,
    blockOps: new Set(o.blockOps ?? []),
    exclude: nameList(o.exclude, '--exclude') ?? [],
    calibration: o.calibration,
    calibSize,
    ...(o.beyondFp16 ? { beyondFp16: o.beyondFp16 } : {}),
    engine: o.engine,
    signal: o.signal,
    onProgress: o.onProgress,
  };
}

/** The resolved options, for reports. */
export function fp16Settings(o: ResolvedFp16Options): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = {
    keepIoTypes: o.keepIoTypes,
    preprocess: o.preprocess,
    rangeCheck: o.beyondFp16 ? 'constants, and the data\'s findings replayed' : o.calibration ? `constants and data (${o.calibSize} samples at most)` : 'constants only',
  };
  if (o.blockOps.size) s.blockOps = [...o.blockOps].join(',');
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  return s;
}
