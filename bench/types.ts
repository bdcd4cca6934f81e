/** The shape of a benchmark suite: `npm run bench` runs every bench/suites/*.ts. */
import type { Engine } from '../src/runtime/engine.js';

export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface BenchReport {
  tables: BenchTable[];
  /**
   * Named numbers tracked from run to run (e.g. 'resnet_bn.int8_speedup'). Keys built with
   * `summaryMetrics` also feed the cross-suite summary table.
   */
  metrics: Record<string, number>;
  notes: string[];
}

export interface BenchContext {
  engine: Engine;
  /** BENCH_QUICK=1: fewer runs, for a smoke check. */
  quick: boolean;
  log(message: string): void;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}

/**
 * The cross-suite summary: one row per model variant (an int8 model, a pruned model, ...) against
 * its FP32 baseline, gathered by the runner from every suite's `metrics` whose key ends in one of
 * these fields: `<subject>.<field>`, the subject being a model or `model.variant` (e.g.
 * 'resnet_bn.speedup', 'resnet50_raw.size_ratio', 'resnet_bn.int8-static.accuracy_drop').
 */
export interface SummaryFields {
  /** Top-1 (or primary metric) drop in percentage points on the fixture test set; negative = better. */
  accuracy_drop?: number;
  /** FP32 median latency / variant median latency, interleaved, 1 intra-op thread. */
  speedup?: number;
  /** Variant size / FP32 size on disk. */
  size_ratio?: number;
  /** Seconds to produce the variant (calibration included). */
  quantize_s?: number;
  /** Peak resident memory of calibration, in MB. */
  calib_peak_mb?: number;
}

export const SUMMARY_FIELDS: (keyof SummaryFields)[] = ['accuracy_drop', 'speedup', 'size_ratio', 'quantize_s', 'calib_peak_mb'];

/** Other metric names suites already use for the same things. */
export const SUMMARY_ALIASES: Record<string, keyof SummaryFields> = {
  top1_drop_points: 'accuracy_drop',
  drop_points: 'accuracy_drop',
  quantize_seconds: 'quantize_s',
  calibration_peak_mb: 'calib_peak_mb',
};

/** Metric entries for the summary: `<model>.<variant>.<field>` for each field given. */
export function summaryMetrics(model: string, variant: string, fields: SummaryFields): Record<string, number> {
  if (model.includes('.') || variant.includes('.')) throw new Error(`summary model and variant names may not contain '.': ${model} / ${variant}`);
  const out: Record<string, number> = {};
  for (const f of SUMMARY_FIELDS) {
    const v = fields[f];
    if (v !== undefined && Number.isFinite(v)) out[`${model}.${variant}.${f}`] = v;
  }
  return out;
}
