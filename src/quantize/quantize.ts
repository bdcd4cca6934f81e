/**
 * The public entry point of every quantization mode. `mode` picks the algorithm (default 'static');
 * each mode has its own typed options, and all return the shared QuantizeResult.
 */
import type { Model } from '../ir/model.js';
import { OptionError } from '../errors.js';
import type { QuantizeMode } from './types.js';
import { quantizeStatic, type StaticQuantizeResult } from './static/quantize-static.js';
import type { StaticQuantizeOptions } from './static/options.js';

export const QUANTIZE_MODES: readonly QuantizeMode[] = ['static', 'dynamic', 'weight-only', 'fp16'];

/** Modes this build can run (the others are being built; `--mode` says so instead of guessing). */
export const AVAILABLE_MODES: readonly QuantizeMode[] = ['static'];

export type QuantizeOptions = { mode?: 'static' } & StaticQuantizeOptions;

export function checkMode(mode: string): QuantizeMode {
  if (!(QUANTIZE_MODES as readonly string[]).includes(mode)) throw new OptionError(`--mode must be one of ${QUANTIZE_MODES.join(', ')} (got '${mode}')`);
  if (!(AVAILABLE_MODES as readonly string[]).includes(mode)) {
    throw new OptionError(`--mode ${mode} is not available in this build yet (available: ${AVAILABLE_MODES.join(', ')})`);
  }
  return mode as QuantizeMode;
}

export async function quantize(model: Model, options: QuantizeOptions = {}): Promise<StaticQuantizeResult> {
  const mode = checkMode(options.mode ?? 'static');
  switch (mode) {
    case 'static': {
      const { mode: _mode, ...rest } = options;
      return quantizeStatic(model, rest);
    }
    default:
      throw new OptionError(`--mode ${mode} is not available in this build yet`);
  }
}
