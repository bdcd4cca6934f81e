/**
 * On a target whose u8 x s8 sums saturate (x86 without VNNI), two weight stores are exact: uint8
 * (U8U8 kernels: full 8-bit precision, but ORT leaves its fast ConvSym path and runs slower GEMMs;
 * ResNet-50 ran 1.23x fp32 that way against 3.09x with int8 on AVX-512 VNNI, `npm run bench
 * int8-arithmetic`) and int8 within the int16 pair budget (U8S8 kernels at full speed, coarser
 * weights where two neighbours are both large: 1.2-3.5 dB more weight noise on the fixtures, but
 * 0.35 dB less output SQNR on ResNet-50, where activation noise dominates).
 *
 * The store is chosen per weight by the error it costs the model on calibration samples: all
 * weights within the pair budget when the output SQNR stays within MAX_OUTPUT_LOSS_DB of the all-
 * uint8 model; otherwise the weights whose pair budget costs the most noise become uint8, as few
 * as a bisection finds enough. The placement search then runs with that store.
 */
import type { Model } from '../../ir/model.js';
import type { TensorRange } from '../../calibrate/types.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { WeightPolicy } from '../weight-encoding.js';
import type { ResolvedStaticOptions } from './options.js';
import { buildCandidate } from './placement-search.js';
import { modelOutputs, outputSqnr } from '../../tune/output-fidelity.js';

/** Output SQNR the faster store may cost against uint8 weights everywhere. */
export const MAX_OUTPUT_LOSS_DB = 1;

export interface WeightStoreDecision {
  /** Per weight tensor: 'uint8' or 'int8-safe' (absent: the default, e.g. depthwise int8). */
  overrides: Map<string, WeightPolicy>;
  note: string;
}

/** Whether the choice applies: 8-bit integer kernels on a saturating target, store left to slimnet. */
export function weightStoreToChoose(opts: ResolvedStaticOptions): boolean {
  const eightBit = opts.activations === 'uint8' || opts.activations === 'int8';
  return eightBit && !opts.u8s8Exact && opts.weights === 'auto' && !opts.reduceRange;
}

export async function chooseWeightStore(pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, samples: Feeds[]): Promise<WeightStoreDecision | undefined> {
  // 'full' quantizes every op that can be, so every weight is judged.
  const exact = buildCandidate(pre, ranges, opts, 'full');
  // Weights 'auto' would store as uint8, costliest pair budget first.
  const candidates = exact.plan.weights.filter((w) => w.encoding === 'uint8').sort((a, b) => (b.safeLossDb ?? 0) - (a.safeLossDb ?? 0));
  if (!candidates.length) return undefined;
  const overridesWith = (uint8: number) => new Map<string, WeightPolicy>(candidates.map((w, i) => [w.tensor, i < uint8 ? 'uint8' : 'int8-safe']));
  // The float outputs once, for every model the bisection builds.
  const floatOutputs = await modelOutputs(engine, pre, samples);
  const sqnrWith = async (uint8: number) => (await outputSqnr(engine, floatOutputs, [buildCandidate(pre, ranges, { ...opts, weightOverrides: overridesWith(uint8) }, 'full').model], samples))[0]!;
  const [reference] = await outputSqnr(engine, floatOutputs, [exact.model], samples);
  const floor = reference! - MAX_OUTPUT_LOSS_DB;
  // Bisection on how many weights keep uint8: the fewest whose model stays within the budget.
  let lo = 0;
  let hi = candidates.length;
  let loDb = await sqnrWith(0);
  if (loDb < floor) {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const db = await sqnrWith(mid);
      if (db >= floor) hi = mid;
      else lo = mid;
    }
    loDb = hi === candidates.length ? reference! : await sqnrWith(hi);
  } else {
    hi = 0;
  }
  const safe = candidates.length - hi;
  const note = `weights for ${opts.target === 'host' ? 'this CPU' : 'the target'} (no exact u8 x s8 sums): ${safe} of ${candidates.length} within the int16 pair budget (U8S8 kernels), ${hi} as uint8 (U8U8); output SQNR ${loDb.toFixed(1)} dB against ${reference!.toFixed(1)} dB with uint8 everywhere, on ${samples.length} calibration sample(s)`;
  return { overrides: overridesWith(hi), note };
}
