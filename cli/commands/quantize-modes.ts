/**
 * `slimnet quantize --mode dynamic|weight-only|fp16`: which flags each mode reads, and the API
 * options they become (same names as the API: --block-size is blockSize, --calib is calibration).
 * A flag that the chosen mode does not read is an error, so a typo in the mode cannot silently
 * drop a setting.
 */
import type { Command } from 'commander';
import { OptionError } from '../../src/errors.js';
import type { OtherModeOptions } from '../../src/quantize/quantize.js';
import type { QuantizeMode } from '../../src/quantize/types.js';
import type { DynamicQuantizeOptions } from '../../src/quantize/dynamic/options.js';
import type { WeightOnlyOptions } from '../../src/quantize/weight-only/options.js';
import { parseLayerWeights } from '../../src/quantize/weight-only/layer-weights.js';
import type { Fp16Options } from '../../src/quantize/fp16/options.js';

/** The mode flags, as commander stores them. */
export interface ModeFlags {
  calib?: string;
  calibSize?: string;
  format?: string;
  perChannel: boolean;
  weights?: string;
  target?: string;
  reduceRange?: boolean;
  exclude: string[];
  opTypes?: string[];
  preprocess: boolean;
  blockSize?: string;
  layerWeights?: string[];
  symmetric?: boolean;
  algorithm?: string;
  accuracyLevel?: string;
  dampPercent?: string;
  activations?: string;
  keepIoTypes: boolean;
  blockOps?: string[];
}

const COMMON = ['output', 'mode', 'json', 'verbose', 'quiet', 'exclude', 'opTypes', 'force', 'recipe', 'saveRecipe', 'locked'];

/** Flags (commander attribute names) each mode reads. */
export const MODE_FLAGS: Record<QuantizeMode, readonly string[]> = {
  static: [...COMMON, 'calib', 'calibSize', 'ranges', 'method', 'percentile', 'format', 'placement', 'perChannel', 'activations', 'weights', 'target', 'symmetricActivations', 'reduceRange', 'preprocess', 'storeConstants', 'planOut', 'printPlan', 'maxDrop', 'evalData', 'metric', 'evalLimit', 'prefer', 'timeBudget', 'timingBatch', 'fallback', 'equalization', 'biasCorrection', 'smoothQuant', 'smoothQuantAlpha', 'report', 'requantize'],
  dynamic: [...COMMON, 'format', 'perChannel', 'reduceRange', 'weights', 'target'],
  'weight-only': [...COMMON, 'weights', 'target', 'blockSize', 'layerWeights', 'symmetric', 'algorithm', 'accuracyLevel', 'format', 'activations', 'calib', 'calibSize', 'dampPercent'],
  fp16: ['output', 'mode', 'json', 'verbose', 'quiet', 'exclude', 'force', 'recipe', 'saveRecipe', 'locked', 'keepIoTypes', 'blockOps', 'calib', 'calibSize', 'preprocess'],
};

/** Refuses flags given on the command line that `mode` does not read. */
export function rejectForeignFlags(mode: QuantizeMode, command: Command): void {
  for (const opt of command.options) {
    const key = opt.attributeName();
    if (command.getOptionValueSource(key) !== 'cli' || MODE_FLAGS[mode].includes(key)) continue;
    const users = (Object.keys(MODE_FLAGS) as QuantizeMode[]).filter((m) => MODE_FLAGS[m].includes(key));
    throw new OptionError(`${opt.long} is not used by --mode ${mode}${users.length ? ` (it applies to --mode ${users.join(', ')})` : ''}`);
  }
}

function number(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new OptionError(`${flag} must be ${integer ? 'an integer' : 'a number'} (got '${value}')`);
  return n;
}

/** API options for the modes other than static (values are validated by the API, naming the flag). */
export function otherModeOptions(mode: Exclude<QuantizeMode, 'static'>, f: ModeFlags): OtherModeOptions {
  const calibSize = number('--calib-size', f.calibSize, true);
  switch (mode) {
    case 'dynamic': {
      const o: DynamicQuantizeOptions = { perChannel: f.perChannel, reduceRange: f.reduceRange ?? false, exclude: f.exclude };
      if (f.target) o.target = f.target;
      if (f.weights) o.weights = f.weights as DynamicQuantizeOptions['weights'];
      if (f.format) o.format = f.format as DynamicQuantizeOptions['format'];
      if (f.opTypes) o.opTypes = f.opTypes as DynamicQuantizeOptions['opTypes'];
      return { mode, ...o };
    }
    case 'weight-only': {
      const o: WeightOnlyOptions = { symmetric: f.symmetric ?? false, exclude: f.exclude };
      if (f.target) o.target = f.target;
      if (f.weights) o.weights = f.weights as WeightOnlyOptions['weights'];
      const blockSize = number('--block-size', f.blockSize, true);
      if (blockSize !== undefined) o.blockSize = blockSize;
      if (f.layerWeights) o.layerWeights = parseLayerWeights(f.layerWeights);
      if (f.algorithm) o.algorithm = f.algorithm as WeightOnlyOptions['algorithm'];
      const level = number('--accuracy-level', f.accuracyLevel, true);
      if (level !== undefined) o.accuracyLevel = level as WeightOnlyOptions['accuracyLevel'];
      if (f.format) o.format = f.format as WeightOnlyOptions['format'];
      if (f.activations) o.activations = f.activations as WeightOnlyOptions['activations'];
      if (f.opTypes) o.opTypes = f.opTypes as WeightOnlyOptions['opTypes'];
      if (f.calib) o.calibration = f.calib;
      if (calibSize !== undefined) o.calibSize = calibSize;
      const damp = number('--damp-percent', f.dampPercent);
      if (damp !== undefined) o.dampPercent = damp;
      return { mode, ...o };
    }
    case 'fp16': {
      const o: Fp16Options = { keepIoTypes: f.keepIoTypes, preprocess: f.preprocess, exclude: f.exclude };
      if (f.blockOps) o.blockOps = f.blockOps;
      if (f.calib) o.calibration = f.calib;
      if (calibSize !== undefined) o.calibSize = calibSize;
      return { mode, ...o };
    }
  }
}
