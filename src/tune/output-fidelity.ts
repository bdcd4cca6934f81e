/** How close candidate models stay to a reference on the same samples: output SQNR over all float outputs. */
import type { Model } from '../ir/model.js';
import type { Engine } from '../runtime/engine.js';
import type { Feeds, TensorData } from '../runtime/types.js';

/** The float outputs of `model` on each of `samples`, in output order. */
async function floatOutputs(engine: Engine, model: Model, samples: Feeds[]): Promise<Float32Array[][]> {
  const s = await engine.createSession(model, { intraOpThreads: 1, interOpThreads: 1 });
  try {
    const all: Float32Array[][] = [];
    for (const feeds of samples) {
      const out = await s.run(feeds);
      all.push(Object.values(out).filter((t: TensorData) => t.data instanceof Float32Array).map((t) => t.data as Float32Array));
    }
    return all;
  } finally {
    await s.release();
  }
}

/** Output SQNR (dB) of each model against the reference, over all float outputs of one sample or several. */
export async function outputSqnr(engine: Engine, reference: Model, models: Model[], feeds: Feeds | Feeds[]): Promise<number[]> {
  const samples = Array.isArray(feeds) ? feeds : [feeds];
  const ref = await floatOutputs(engine, reference, samples);
  const out: number[] = [];
  for (const m of models) {
    const got = await floatOutputs(engine, m, samples);
    let num = 0;
    let den = 0;
    ref.forEach((outputs, s) => outputs.forEach((r, k) => {
      const g = got[s]![k];
      for (let i = 0; i < r.length; i++) {
        const e = (g?.[i] ?? 0) - r[i]!;
        num += e * e;
        den += r[i]! * r[i]!;
      }
    }));
    out.push(num === 0 ? Infinity : 10 * Math.log10(den / num));
  }
  return out;
}
