/**
 * Everything `slimnet eval` does, as one API call: accuracy (evaluate), speed (interleaved timing
 * of both models), per-layer analysis of a QDQ candidate, and the pipeline gates, gathered into one
 * EvalReport that the renderers print.
 */
import type { Model } from '../ir/model.js';
import { Engine } from '../runtime/engine.js';
import type { ExecutionProvider } from '../runtime/types.js';
import type { DataSource } from '../calibrate/data/open.js';
import { evaluate, type EvaluateOptions } from './evaluate.js';
import { analyzeLayers, type LayerAnalysisOptions } from './per-layer.js';
import { measureInterleaved, runsWithinBudget } from '../tune/latency.js';
import { dataFeeds } from './bench-feeds.js';
import { detectHardware } from '../target/hardware.js';
import { checkSaturation } from './saturation.js';
import { hasQdq, qoperatorOps } from './qdq-structure.js';
import { UnsupportedOpError } from '../errors.js';
import { modelRef } from './model-runs.js';
import { checkGates, type GateSpec } from './gate.js';
import { buildEvalReport, evalGateScope, type EvalReport, type SpeedEntry } from './report/eval-report.js';

export interface CompareOptions extends Omit<EvaluateOptions, 'engine'> {
  /** Time both models (default true): batch 1, interleaved, in the inference worker. */
  speed?: boolean | { provider?: ExecutionProvider; threads?: number; runs?: number; warmup?: number };
  /**
   * Per-layer analysis of a QDQ candidate (default false). 'auto' runs it only when the candidate
   * has Q/DQ nodes; true on a candidate without them adds a note instead.
   */
  layers?: boolean | 'auto' | Omit<LayerAnalysisOptions, 'engine' | 'reference'>;
  gates?: GateSpec;
  engine?: Engine;
}

const DEFAULT_RUNS = 30;
const DEFAULT_WARMUP = 10;

export async function compareModels(reference: Model | string, candidate: Model | string, data: DataSource, options: CompareOptions = {}): Promise<EvalReport> {
  const engine = options.engine ?? new Engine({ signal: options.signal });
  try {
    const ref = modelRef(reference);
    const cand = modelRef(candidate);
    const result = await evaluate(ref.path ?? ref.model, cand.path ?? cand.model, data, { ...options, engine });
    let speed: SpeedEntry | null = null;
    if (options.speed ?? true) {
      const s = typeof options.speed === 'object' ? options.speed : {};
      const provider = s.provider ?? 'cpu';
      const threads = s.threads ?? 1;
      const { feeds } = await dataFeeds(data, ref.model, 1);
      const session = { providers: [provider], strictProviders: true, intraOpThreads: threads, interOpThreads: 1 };
      const models = [ref.path ?? ref.model, cand.path ?? cand.model];
      let plan = { runs: s.runs ?? DEFAULT_RUNS, warmup: s.warmup ?? DEFAULT_WARMUP };
      if (s.runs === undefined && s.warmup === undefined) {
        // One untimed run of each tells whether the defaults fit the time budget (a megapixel model runs for seconds).
        const first = await measureInterleaved(models, feeds, { engine, runs: 1, warmup: 0, signal: options.signal, session });
        const budgeted = runsWithinBudget(Math.max(...first.map((x) => x.medianMs)), plan);
        if (budgeted.note) result.notes.push(budgeted.note);
        plan = { runs: budgeted.runs, warmup: budgeted.warmup };
      }
      const runs = plan.runs;
      const [r, c] = await measureInterleaved(models, feeds, {
        engine, runs, warmup: plan.warmup, signal: options.signal, onProgress: options.onProgress, session,
      });
      speed = { provider, threads, batch: 1, runs, reference: r!, candidate: c!, speedup: r!.medianMs / c!.medianMs };
    }
    let layers = null;
    if (options.layers && hasQdq(cand.model)) {
      const lo = typeof options.layers === 'object' ? options.layers : {};
      try {
        layers = await analyzeLayers(cand.path ?? cand.model, data, { ...lo, reference: ref.path ?? ref.model, engine, signal: options.signal, onProgress: options.onProgress });
      } catch (err) {
        if (!(err instanceof UnsupportedOpError)) throw err;
        result.notes.push(`no per-layer analysis: ${err.message}`);
      }
    } else if (options.layers) {
      const qops = qoperatorOps(cand.model);
      result.notes.push(`no per-layer analysis: ${cand.label} ${qops.length ? `uses QOperator ops (${qops.join(', ')}); per-layer analysis needs the QDQ format` : 'has no Q/DQ nodes'}`);
    }
    const gates = options.gates ? await checkGates(options.gates, evalGateScope(result, speed)) : [];
    const hardware = detectHardware();
    // Up to 8 samples measure what saturation costs on this CPU (when it saturates at all).
    const sat = await checkSaturation(cand.model, engine, [(await dataFeeds(data, cand.model, 8).catch(() => dataFeeds(data, cand.model, 1))).feeds], cand.path ?? cand.model);
    const warnings = sat.message && sat.hostSaturates ? [sat.message] : [];
    if (sat.message && !sat.hostSaturates) result.notes.push(sat.message);
    return buildEvalReport(result, { speed, layers, hardware, gates, warnings });
  } finally {
    if (!options.engine) await engine.close();
  }
}
