/**
 * What the recovery methods computed from data, as decisions a recipe keeps: replaying them on the
 * same pre-processed model, with no data, rebuilds the same bytes. Scales and means are plain
 * float64 numbers (JSON keeps them exactly).
 */

/** Cross-layer equalization of one pair: output channel c of `first` divided by scales[c], input channel c of `second` multiplied. */
export interface EqualizedPair {
  first: string;
  second: string;
  scales: number[];
  /** High-bias absorption: per channel, subtracted from `first`'s bias and added through `second`'s weights to its bias. */
  absorbed?: number[];
}

/** SmoothQuant on one activation: channel c divided by scales[c] (folded into the LayerNorm `into`), the weight rows of `consumers` multiplied. */
export interface SmoothedInput {
  tensor: string;
  consumers: string[];
  into: string;
  alpha: number;
  scales: number[];
}

export interface RecoveryDecisions {
  equalization?: EqualizedPair[];
  smoothing?: SmoothedInput[];
  /** Bias correction: the input means per input tensor (measured on the calibration data). */
  biasCorrection?: 'empirical' | 'analytic';
  biasMeans?: Record<string, number[]>;
}

const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Checks the recovery part of decisions read from a file, naming the key at fault. */
export function checkRecoveryDecisions(d: unknown, fail: (key: string, what: string) => never): RecoveryDecisions {
  if (d === undefined) return {};
  if (!d || typeof d !== 'object' || Array.isArray(d)) fail('decisions.recovery', 'must be an object');
  const o = d as Record<string, unknown>;
  const list = (key: string, ok: (x: Record<string, unknown>) => boolean, expect: string) => {
    const v = o[key];
    if (v === undefined) return;
    if (!Array.isArray(v)) fail(`decisions.recovery.${key}`, 'must be an array');
    (v as unknown[]).forEach((x, i) => {
      if (!x || typeof x !== 'object' || !ok(x as Record<string, unknown>)) fail(`decisions.recovery.${key}[${i}]`, `must be ${expect}`);
    });
  };
  list('equalization', (x) => typeof x.first === 'string' && typeof x.second === 'string' && numbers(x.scales) && (x.absorbed === undefined || numbers(x.absorbed)), '{ first, second, scales: number[], absorbed?: number[] }');
  list('smoothing', (x) => typeof x.tensor === 'string' && typeof x.into === 'string' && Array.isArray(x.consumers) && x.consumers.every((c) => typeof c === 'string') && typeof x.alpha === 'number' && numbers(x.scales), '{ tensor, consumers: string[], into, alpha, scales: number[] }');
  if (o.biasCorrection !== undefined && o.biasCorrection !== 'empirical' && o.biasCorrection !== 'analytic') fail('decisions.recovery.biasCorrection', "must be 'empirical' or 'analytic'");
  const m = o.biasMeans;
  if (m !== undefined) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) fail('decisions.recovery.biasMeans', 'must be an object');
    for (const [k, x] of Object.entries(m as object)) if (!numbers(x)) fail(`decisions.recovery.biasMeans.${k}`, 'must be an array of numbers');
  }
  return o as RecoveryDecisions;
}
