/**
 * Options of accuracy recovery without retraining: SmoothQuant, cross-layer equalization and bias
 * correction. Each is 'auto' by default, which turns it on only where the measurements behind the
 * defaults found it helps (`autoEnabled` in recovery.ts has the rules, docs/static-int8.md the numbers).
 */
import { OptionError } from '../../../errors.js';

export type Toggle = 'auto' | 'on' | 'off';

export const TOGGLES: readonly Toggle[] = ['auto', 'on', 'off'];
export type BiasCorrectionChoice = Toggle | 'analytic';
const BIAS_CHOICES: readonly BiasCorrectionChoice[] = [...TOGGLES, 'analytic'];

export interface RecoveryOptions {
  /**
   * SmoothQuant (Xiao et al. 2023) for MatMuls with a constant weight that read a
   * LayerNormalization: activation channel c is divided by s_c (folded into the LayerNorm's scale
   * and bias, so nothing is added to the graph) and weight row c multiplied by it. 'auto'
   * (default): off, as measured on the ViT fixture (recovery.ts, `autoEnabled`); 'on' to use it.
   */
  smoothQuant?: Toggle;
  /**
   * SmoothQuant's migration strength in [0, 1] (s_c = max|x_c|^alpha / max|W_c|^(1 - alpha)), or
   * 'search' (default): per layer, the alpha with the least predicted output error, from X^T X
   * and the channel extremes of the same pass; layers where no alpha helps are left alone.
   */
  smoothQuantAlpha?: number | 'search';
  /**
   * Cross-layer equalization (Nagel et al. 2019) of consecutive convolutions (Conv -> Relu/Clip ->
   * Conv, depthwise -> pointwise), with high-bias absorption where exact. 'auto' (default): on
   * with per-tensor weights.
   */
  equalization?: Toggle;
  /**
   * Bias correction: each int8 Conv/MatMul/Gemm's bias shifted by the mean error its weight
   * quantization adds to the output, from input means measured on the calibration data in the
   * calibration pass ('on', the empirical variant), or computed from the BatchNorm before each
   * layer ('analytic', no data; layers without one are left alone). 'auto' (default): empirical,
   * with per-tensor weights where equalization ran (alone it was measured to raise the logit
   * error; see recovery.ts).
   */
  biasCorrection?: BiasCorrectionChoice;
}

export interface ResolvedRecovery {
  smoothQuant: Toggle;
  alpha: number | 'search';
  equalization: Toggle;
  biasCorrection: BiasCorrectionChoice;
}

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], flag: string, def: T): T {
  if (value === undefined) return def;
  if (!allowed.includes(value)) throw new OptionError(`${flag} must be one of ${allowed.join(', ')} (got '${String(value)}')`);
  return value;
}

export function resolveRecovery(o: RecoveryOptions): ResolvedRecovery {
  const a = o.smoothQuantAlpha;
  if (a !== undefined && a !== 'search' && !(typeof a === 'number' && a >= 0 && a <= 1)) {
    throw new OptionError(`--smooth-quant-alpha must be a number in [0, 1] or 'search' (got '${String(a)}')`);
  }
  const smoothQuant = oneOf(o.smoothQuant, TOGGLES, '--smooth-quant', 'auto');
  if (a !== undefined && smoothQuant === 'off') throw new OptionError('--smooth-quant-alpha only applies with SmoothQuant on: drop --smooth-quant off, or the alpha');
  return {
    smoothQuant,
    alpha: a ?? 'search',
    equalization: oneOf(o.equalization, TOGGLES, '--equalization', 'auto'),
    biasCorrection: oneOf(o.biasCorrection, BIAS_CHOICES, '--bias-correction', 'auto'),
  };
}
