/**
 * What the searches of static quantization decided, as data: the placement, the nodes kept in
 * float on top of it (regions measured slower, layers kept for the accuracy budget) and the weights
 * whose storage was chosen (targets without exact u8 x s8 sums). With the same options and ranges,
 * these rebuild the same model byte for byte, without searching or timing again (`--recipe`).
 */
import { OptionError } from '../../errors.js';
import { WEIGHT_POLICIES, type WeightPolicy } from '../weight-encoding.js';
import type { ConcretePlacement } from './placement-search.js';

export interface QuantDecisions {
  placement: ConcretePlacement;
  /** Node name -> why it stays float. */
  keepFloat: Record<string, string>;
  /** Weight tensor -> its store. */
  weights: Record<string, WeightPolicy>;
}

const PLACEMENTS: readonly ConcretePlacement[] = ['full', 'compute', 'weights', 'storage'];

/** Checks decisions read from a file, naming the key that is wrong. */
export function checkDecisions(d: unknown, where: string): QuantDecisions {
  const fail = (key: string, what: string): never => { throw new OptionError(`${where}: ${key} ${what}`); };
  if (!d || typeof d !== 'object') fail('decisions', 'must be an object with placement, keepFloat and weights');
  const o = d as Record<string, unknown>;
  if (!PLACEMENTS.includes(o.placement as ConcretePlacement)) fail('decisions.placement', `must be one of ${PLACEMENTS.join(', ')} (got ${JSON.stringify(o.placement)})`);
  const record = (key: string, value: unknown, ok: (v: unknown) => boolean, expect: string) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) fail(`decisions.${key}`, 'must be an object');
    for (const [k, v] of Object.entries(value as object)) if (!ok(v)) fail(`decisions.${key}.${k}`, `must be ${expect} (got ${JSON.stringify(v)})`);
  };
  record('keepFloat', o.keepFloat, (v) => typeof v === 'string', 'a reason (string)');
  record('weights', o.weights, (v) => WEIGHT_POLICIES.includes(v as WeightPolicy), WEIGHT_POLICIES.join(' or '));
  return { placement: o.placement as ConcretePlacement, keepFloat: o.keepFloat as Record<string, string>, weights: o.weights as Record<string, WeightPolicy> };
}
