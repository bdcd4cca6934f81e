/**
 * The evaluation report: one plain, JSON-ready object (schema slimnet.eval/1, documented in
 * docs/eval-json.md) that every renderer (text, Markdown, HTML) and the gates read. Non-finite
 * numbers become null in JSON: an SQNR of null with `identical` means the outputs are identical.
 */
import { VERSION } from '../../version.js';
import type { EvaluationResult } from '../evaluate.js';
import type { LatencyStats } from '../../tune/latency.js';
import type { LayerAnalysis } from '../per-layer.js';
import type { HardwareInfo } from '../../target/hardware.js';
import type { GateResult, GateScope } from '../gate.js';
import type { ExecutionProvider } from '../../runtime/types.js';

export interface ModelEntry {
  model: string;
  sha256: string;
  sizeBytes: number;
  /** Median latency in ms, when speed was measured. */
  latencyMs: number | null;
  /** Metric name -> score (top1, top5, rmse, mae, cosine, user metrics). */
  [metric: string]: number | string | null;
}

export interface OutputEntry {
  agreement: number | null;
  cosine: number;
  cosineMin: number;
  /** dB; null when identical. */
  sqnr: number | null;
  mse: number;
  maxAbsError: number;
  elements: number;
  /** Bit-identical wherever the reference gives a number, and it gives one everywhere. */
  identical: boolean;
  /**
   * Elements that are NaN or infinite: in the reference (left out of every number above), and in
   * the candidate only (the reference finite there: infinite error, so sqnr is null and not identical).
   */
  nonFinite: { reference: number; candidate: number };
}

export interface SpeedEntry {
  provider: ExecutionProvider;
  threads: number;
  batch: number;
  runs: number;
  reference: LatencyStats;
  candidate: LatencyStats;
  /** Reference median / candidate median. */
  speedup: number;
}

export interface EvalReport {
  schema: 'slimnet.eval/1';
  slimnet: string;
  createdAt: string;
  task: EvaluationResult['task'];
  output: string;
  samples: number;
  data: { source: string; sha256: string; labels: boolean };
  reference: ModelEntry;
  candidate: ModelEntry;
  /** The primary metric, its drop (points for accuracies, else metric units; positive = worse) and relative drop (%). */
  metric: string | null;
  drop: number | null;
  relativeDrop: number | null;
  metrics: Record<string, { reference: number | null; candidate: number | null; drop: number | null; relativeDrop: number | null; higherIsBetter: boolean; fraction: boolean }>;
  /** Agreement and SQNR (dB) of the primary output. */
  agreement: number | null;
  sqnr: number | null;
  outputs: Record<string, OutputEntry>;
  speed: SpeedEntry | null;
  /** Candidate size / reference size on disk. */
  sizeRatio: number;
  layers: LayerAnalysis | null;
  hardware: HardwareInfo | null;
  gates: GateResult[];
  passed: boolean;
  notes: string[];
  /** What may make the numbers above wrong on another machine or this one (int8 saturation, ...). */
  warnings: string[];
}

const RESERVED = new Set(['model', 'sha256', 'sizeBytes', 'latencyMs']);

/** Finite numbers as is; Infinity/NaN as null (JSON has neither). */
export function finite(x: number | null | undefined): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

export function buildEvalReport(e: EvaluationResult, extras: { speed?: SpeedEntry | null; layers?: LayerAnalysis | null; hardware?: HardwareInfo | null; gates?: GateResult[]; warnings?: string[] } = {}): EvalReport {
  const entry = (which: 'reference' | 'candidate'): ModelEntry => {
    const m = e[which];
    const out: ModelEntry = { model: m.path ?? m.label, sha256: m.sha256, sizeBytes: m.sizeBytes, latencyMs: extras.speed ? extras.speed[which].medianMs : null };
    for (const [k, v] of Object.entries(m.scores)) out[RESERVED.has(k) ? `metric_${k}` : k] = finite(v);
    return out;
  };
  const primaryOut = e.outputs.find((o) => o.name === e.output) ?? e.outputs[0]!;
  const gates = extras.gates ?? [];
  return {
    schema: 'slimnet.eval/1',
    slimnet: VERSION,
    createdAt: new Date().toISOString(),
    task: e.task,
    output: e.output,
    samples: e.samples,
    data: { source: e.data.source, sha256: e.data.sha256, labels: e.data.hasLabels },
    reference: entry('reference'),
    candidate: entry('candidate'),
    metric: e.primary?.name ?? null,
    drop: finite(e.primary?.drop),
    relativeDrop: finite(e.primary?.relativeDrop),
    metrics: Object.fromEntries(e.metrics.map((m) => [m.name, { reference: finite(m.reference), candidate: finite(m.candidate), drop: finite(m.drop), relativeDrop: finite(m.relativeDrop), higherIsBetter: m.higherIsBetter, fraction: m.fraction }])),
    agreement: primaryOut.agreement,
    sqnr: finite(primaryOut.sqnrDb),
    outputs: Object.fromEntries(e.outputs.map((o) => [o.name, {
      agreement: o.agreement, cosine: o.cosine, cosineMin: o.cosineMin, sqnr: finite(o.sqnrDb), mse: o.mse, maxAbsError: o.maxAbsError, elements: o.elements,
      identical: o.identical,
      nonFinite: { reference: o.referenceNonFinite, candidate: o.candidateNonFinite },
    }])),
    speed: extras.speed ?? null,
    sizeRatio: e.candidate.sizeBytes / e.reference.sizeBytes,
    layers: extras.layers ?? null,
    hardware: extras.hardware ?? null,
    gates,
    passed: gates.every((g) => g.passed),
    notes: e.notes,
    warnings: extras.warnings ?? [],
  };
}

/** Gate variables of an evaluation, besides each metric m (candidate) and ref_m (reference). */
export const EVAL_VARIABLES = {
  drop: 'accuracy drop of the primary metric, in points for accuracies',
  relative_drop: 'drop as % of the reference score',
  agreement: 'top-1 agreement on the primary output (0..1)',
  sqnr: 'SQNR of the primary output in dB',
  cosine: 'mean cosine similarity of the primary output',
  mse: 'mean squared error of the primary output',
  max_abs_error: 'max abs error of the primary output',
  speedup: 'reference median latency / candidate median latency',
  latency_ms: 'candidate median latency in ms',
  size_ratio: 'candidate size / reference size',
} as const;

/** Metrics any evaluation may report (gate variables m and ref_m). */
export const BUILTIN_METRICS = ['top1', 'top5', 'rmse', 'mae', 'cosine'];

/** Every variable name a --fail-if may use with these user metrics (checked before any work). */
export function evalVariableNames(userMetrics: string[] = []): string[] {
  const metrics = [...BUILTIN_METRICS, ...userMetrics];
  return [...new Set([...Object.keys(EVAL_VARIABLES), ...metrics, ...metrics.map((m) => `ref_${m}`)])];
}

/** The variables gates can read from an evaluation. */
export function evalGateScope(e: EvaluationResult, speed: SpeedEntry | null): GateScope {
  const primaryOut = e.outputs.find((o) => o.name === e.output) ?? e.outputs[0]!;
  const noMetric = 'the task has no accuracy metric: give labels (--labels) with --task classification or regression, or a --metric module';
  const noSpeed = 'speed was not measured (drop --no-speed)';
  const v = (name: keyof typeof EVAL_VARIABLES, value: number | null | undefined, missing?: string) => ({ value, description: EVAL_VARIABLES[name], ...(missing ? { missing } : {}) });
  const scope: GateScope = {
    drop: v('drop', e.primary?.drop, noMetric),
    relative_drop: v('relative_drop', e.primary?.relativeDrop, noMetric),
    agreement: v('agreement', primaryOut.agreement, 'the output has no class axis to agree on'),
    sqnr: v('sqnr', primaryOut.sqnrDb),
    cosine: v('cosine', primaryOut.cosine),
    mse: v('mse', primaryOut.mse),
    max_abs_error: v('max_abs_error', primaryOut.maxAbsError),
    speedup: v('speedup', speed?.speedup, noSpeed),
    latency_ms: v('latency_ms', speed?.candidate.medianMs, noSpeed),
    size_ratio: v('size_ratio', e.candidate.sizeBytes / e.reference.sizeBytes),
  };
  for (const name of evalVariableNames()) {
    if (name in scope) continue;
    const ref = name.startsWith('ref_');
    scope[name] = { value: undefined, description: `${ref ? 'reference' : 'candidate'} ${ref ? name.slice(4) : name}`, missing: `this evaluation has no ${ref ? name.slice(4) : name} metric` };
  }
  for (const m of e.metrics) {
    scope[m.name] = { value: m.candidate, description: `candidate ${m.name}` };
    scope[`ref_${m.name}`] = { value: m.reference, description: `reference ${m.name}` };
  }
  return scope;
}
