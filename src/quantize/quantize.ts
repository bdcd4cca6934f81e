/**
 * The public entry point of every quantization mode. `mode` picks the algorithm (default 'static');
 * each mode has its own typed options, and all return the shared QuantizeResult.
 */
import type { Model } from '../ir/model.js';
import { OptionError } from '../errors.js';
import type { QuantizeMode, QuantizeResult } from './types.js';
import { quantizeStatic, type StaticQuantizeResult } from './static/quantize-static.js';
import type { StaticQuantizeOptions } from './static/options.js';
import { quantizeDynamic, type DynamicQuantizeOptions } from './dynamic/quantize-dynamic.js';
import { quantizeWeightOnly, type WeightOnlyOptions } from './weight-only/quantize-weight-only.js';
import { convertToFp16, type Fp16Options } from './fp16/convert.js';

export const QUANTIZE_MODES: readonly QuantizeMode[] = ['static', 'dynamic', 'weight-only', 'fp16'];

/** Modes this build can run. */
export const AVAILABLE_MODES: readonly QuantizeMode[] = ['static', 'dynamic', 'weight-only', 'fp16'];

export type StaticModeOptions = { mode?: 'static' } & StaticQuantizeOptions;
/** The modes other than static, each with its own options. */
export type OtherModeOptions =
  | ({ mode: 'dynamic' } & DynamicQuantizeOptions)
  | ({ mode: 'weight-only' } & WeightOnlyOptions)
  | ({ mode: 'fp16' } & Fp16Options);
export type QuantizeOptions = StaticModeOptions | OtherModeOptions;

export function checkMode(mode: string): QuantizeMode {
  if (!(QUANTIZE_MODES as readonly string[]).includes(mode)) throw new OptionError(`--mode must be one of ${QUANTIZE_MODES.join(', ')} (got '${mode}')`);
  if (!(AVAILABLE_MODES as readonly string[]).includes(mode)) {
    throw new OptionError(`--mode ${mode} is not available in this build yet (available: ${AVAILABLE_MODES.join(', ')})`);
  }
  return mode as QuantizeMode;
}

export async function quantize(model: Model, options?: StaticModeOptions): Promise<StaticQuantizeResult>;
export async function quantize(model: Model, options: OtherModeOptions): Promise<QuantizeResult>;
export async function quantize(model: Model, options: QuantizeOptions = {}): Promise<QuantizeResult> {
  const mode = checkMode(options.mode ?? 'static');
  const { mode: _mode, ...rest } = options;
  switch (mode) {
    case 'static': return quantizeStatic(model, rest as StaticQuantizeOptions);
    case 'dynamic': return quantizeDynamic(model, rest as DynamicQuantizeOptions);
    case 'weight-only': return quantizeWeightOnly(model, rest as WeightOnlyOptions);
    case 'fp16': return convertToFp16(model, rest as Fp16Options);
  }
}
