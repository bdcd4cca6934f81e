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
 * its FP32 baseline. Every field is optional; a suite reports what it measured.
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

/**
 * Metric entries for the summary: `summary.<model>.<variant>.<field>`, e.g.
 * `...summaryMetrics('resnet_bn', 'int8-static', { accuracy_drop: 0.3, speedup: 2.1 })` in `metrics`.
 * The runner gathers them from every suite into one table and compares them with the last run.
 */
export function summaryMetrics(model: string, variant: string, fields: SummaryFields): Record<string, number> {
  if (model.includes('.') || variant.includes('.')) throw new Error(`summary model and variant names may not contain '.': ${model} / ${variant}`);
  const out: Record<string, number> = {};
  for (const f of SUMMARY_FIELDS) {
    const v = fields[f];
    if (v !== undefined && Number.isFinite(v)) out[`summary.${model}.${variant}.${f}`] = v;
  }
  return out;
}
