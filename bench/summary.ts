/**
 * The cross-suite summary table: every suite's `<subject>.<field>` metrics (see SummaryFields)
 * gathered into rows (accuracy drop, speedup, size ratio, quantization time, calibration memory),
 * printed by `npm run bench` and written to bench/results/latest.json as `summary`.
 */
import { SUMMARY_ALIASES, SUMMARY_FIELDS, type BenchReport, type BenchTable, type SummaryFields } from './types.js';

export interface SummaryRow extends SummaryFields {
  suite: string;
  model: string;
  variant: string;
}

export function gatherSummary(results: Record<string, BenchReport>): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const [suite, report] of Object.entries(results)) {
    for (const [key, value] of Object.entries(report.metrics)) {
      const parts = key.split('.');
      const last = parts.pop()!;
      const field = (SUMMARY_FIELDS as string[]).includes(last) ? (last as keyof SummaryFields) : SUMMARY_ALIASES[last];
      if (!field || !parts.length || !Number.isFinite(value)) continue;
      const [model, ...rest] = parts as [string, ...string[]];
      const variant = rest.join('.') || '-';
      const id = `${suite}/${model}/${variant}`;
      const row = rows.get(id) ?? { suite, model, variant };
      row[field] = value;
      rows.set(id, row);
    }
  }
  return [...rows.values()];
}

const HEADERS: Record<keyof SummaryFields, string> = {
  accuracy_drop: 'acc. drop (pt)',
  speedup: 'speedup',
  size_ratio: 'size ratio',
  quantize_s: 'quantize (s)',
  calib_peak_mb: 'calib. peak (MB)',
};

export function summaryTable(rows: SummaryRow[], previous: SummaryRow[] = []): BenchTable {
  const before = new Map(previous.map((r) => [`${r.suite}/${r.model}/${r.variant}`, r]));
  const show = (f: keyof SummaryFields, v: number) => (f === 'speedup' || f === 'size_ratio' ? `${v.toFixed(2)}x` : f === 'calib_peak_mb' ? v.toFixed(0) : v.toFixed(2));
  const cell = (r: SummaryRow, f: keyof SummaryFields): string => {
    const v = r[f];
    if (v === undefined) return '-';
    const old = before.get(`${r.suite}/${r.model}/${r.variant}`)?.[f];
    const text = show(f, v);
    return old === undefined || show(f, old) === text ? text : `${text} (was ${show(f, old)})`;
  };
  return {
    title: 'Summary across suites (FP32 baseline = 1.00x)',
    columns: ['suite', 'model', 'variant', ...SUMMARY_FIELDS.map((f) => HEADERS[f])],
    rows: rows.map((r) => [r.suite, r.model, r.variant, ...SUMMARY_FIELDS.map((f) => cell(r, f))]),
  };
}
