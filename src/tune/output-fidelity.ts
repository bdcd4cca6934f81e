/** How close candidate models stay to a reference on the same samples: output SQNR over all float outputs. */
import type { Model } from '../ir/model.js';
import type { Engine } from '../runtime/engine.js';
import type { Feeds, Session, TensorData } from '../runtime/types.js';

/** Float outputs of one model, per sample, in output order. */
export type SampleOutputs = Float32Array[][];

/** The float outputs of an open session on each of `samples`. */
export async function sessionOutputs(session: Session, samples: Feeds[]): Promise<SampleOutputs> {
  const all: SampleOutputs = [];
  for (const feeds of samples) {
    const out = await session.run(feeds);
    all.push(Object.values(out).filter((t: TensorData) => t.data instanceof Float32Array).map((t) => t.data as Float32Array));
  }
  return all;
}

/** The float outputs of `model` on each of `samples` (a session of its own, 1 thread). */
export async function modelOutputs(engine: Engine, model: Model, samples: Feeds[]): Promise<SampleOutputs> {
  const s = await engine.createSession(model, { intraOpThreads: 1, interOpThreads: 1 });
  try {
    return await sessionOutputs(s, samples);
  } finally {
    await s.release();
  }
}

/**
 * Output SQNR (dB) of `got` against `ref`, over all outputs and samples. Where the float output
 * itself is NaN or infinite (a Log of zero, an overflow) there is nothing to measure against and
 * the element is left out; a non-finite value where float is finite is an infinite error
 * (-Infinity dB). Never NaN: a candidate's accuracy is always comparable.
 */
export function sqnrAgainst(ref: SampleOutputs, got: SampleOutputs): number {
  let num = 0;
  let den = 0;
  ref.forEach((outputs, s) => outputs.forEach((r, k) => {
    const g = got[s]![k];
    for (let i = 0; i < r.length; i++) {
      const want = r[i]!;
      if (!Number.isFinite(want)) continue;
      const e = (g?.[i] ?? 0) - want;
      num += Number.isFinite(e) ? e * e : Infinity;
      den += want * want;
    }
  }));
  if (num === 0) return Infinity;
  return num === Infinity ? -Infinity : 10 * Math.log10(den / num);
}

/**
 * Output SQNR (dB) of each model against the reference (a model, or its outputs computed once
 * already), over all float outputs of one sample or several.
 */
export async function outputSqnr(engine: Engine, reference: Model | SampleOutputs, models: Model[], feeds: Feeds | Feeds[]): Promise<number[]> {
  const samples = Array.isArray(feeds) ? feeds : [feeds];
  const ref = Array.isArray(reference) ? reference : await modelOutputs(engine, reference, samples);
  const out: number[] = [];
  for (const m of models) out.push(sqnrAgainst(ref, await modelOutputs(engine, m, samples)));
  return out;
}
