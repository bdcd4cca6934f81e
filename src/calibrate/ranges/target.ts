/** Integer targets a range is chosen for: bit width, signedness, and how many steps the range is cut into. */
import { OptionError } from '../../errors.js';
import type { QuantTarget } from '../types.js';

export const DEFAULT_TARGET: QuantTarget = { type: 'uint8', symmetric: false };
const TYPES = ['uint8', 'int8', 'uint16', 'int16'] as const;

export function targetBits(t: QuantTarget): number {
  return t.type.endsWith('16') ? 16 : 8;
}

export function isSignedTarget(t: QuantTarget): boolean {
  return t.type.startsWith('int');
}

/**
 * qmax - qmin: the number of steps the clipping range is divided into. Symmetric signed targets use
 * the restricted range [-(2^(b-1) - 1), 2^(b-1) - 1] (int8: [-127, 127], as ONNX Runtime does).
 */
export function quantSteps(t: QuantTarget): number {
  const b = targetBits(t);
  return t.symmetric && isSignedTarget(t) ? 2 ** b - 2 : 2 ** b - 1;
}

export function checkTarget(t: QuantTarget, flag = 'target'): QuantTarget {
  if (!TYPES.includes(t.type)) throw new OptionError(`${flag}: type must be one of ${TYPES.join(', ')} (got '${t.type}')`);
  if (typeof t.symmetric !== 'boolean') throw new OptionError(`${flag}: symmetric must be true or false`);
  return t;
}

export function formatTarget(t: QuantTarget): string {
  return `${t.type} ${t.symmetric ? 'symmetric' : 'asymmetric'}`;
}
