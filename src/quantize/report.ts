/**
 * The quantization report: what `slimnet quantize` prints (text) and emits (--json, schema
 * slimnet.quantize/1), built from the result so the CLI and the wizard show the same facts.
 */
import type { QuantizeSummary } from './types.js';
import type { SpeedCheckReport } from './static/speed-check.js';
import type { BudgetReport } from './static/budget-search.js';

export interface QuantizeReport {
  schema: 'slimnet.quantize/1';
  input: { path: string; bytes: number };
  output: { path: string; bytes: number };
  mode: QuantizeSummary['mode'];
  /** The resolved options that shaped the result (format, types, method, ...). */
  settings: Record<string, string | number | boolean>;
  calibration?: { source: string; method: string; samples?: number };
  counts: { quantized: number; folded: number; shared: number; float: number };
  summary: QuantizeSummary;
  speedCheck?: SpeedCheckReport;
  /** The accuracy-budget search (--max-drop): every variant tried and the choice. */
  budget?: BudgetReport;
}

export function kib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function countDecisions(summary: QuantizeSummary): QuantizeReport['counts'] {
  const by = (prefix: string) => summary.quantized.filter((d) => d.detail.startsWith(prefix)).length;
  const folded = by('fold: ');
  const shared = by('share: ');
  return { quantized: summary.quantized.length - folded - shared, folded, shared, float: summary.skipped.length };
}

function histogram(items: string[]): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace('com.microsoft.', '')} ${v}`).join(', ');
}

/** Groups float nodes by reason so a 500-node model prints a readable list. */
function floatLines(summary: QuantizeSummary, limit: number): string[] {
  const byReason = new Map<string, string[]>();
  for (const d of summary.skipped) byReason.set(d.detail, [...(byReason.get(d.detail) ?? []), `${d.node} (${d.op})`]);
  const lines: string[] = [];
  for (const [reason, nodes] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    const shown = nodes.slice(0, limit).join(', ');
    lines.push(`    ${nodes.length} x ${reason}: ${shown}${nodes.length > limit ? `, ... (${nodes.length - limit} more)` : ''}`);
  }
  return lines;
}

export function formatQuantizeReport(r: QuantizeReport, options: { verbose?: boolean } = {}): string {
  const s = r.summary;
  const lines: string[] = [];
  const settings = Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`${r.input.path} -> ${r.output.path}`);
  lines.push(`  ${r.mode}: ${settings}`);
  if (r.calibration) lines.push(`  ranges: ${r.calibration.method} on ${r.calibration.source}${r.calibration.samples ? ` (${r.calibration.samples} samples)` : ''}`);
  for (const n of s.notes ?? []) lines.push(`  note: ${n}`);
  const c = r.counts;
  lines.push('');
  if (r.mode === 'static') lines.push(`Nodes: ${c.quantized} quantized, ${c.folded} folded into their producer, ${c.shared} run on 8-bit data unchanged, ${c.float} left in float`);
  else lines.push(`Nodes: ${c.quantized} ${r.mode === 'fp16' ? 'converted to float16 (or inserted Casts)' : 'quantized (with the nodes their integer form adds)'}, ${c.float} left in ${r.mode === 'fp16' ? 'float32' : 'float'}`);
  if (s.skipped.length) {
    lines.push(`  left in ${r.mode === 'fp16' ? 'float32' : 'float'} (reason: nodes):`);
    lines.push(...floatLines(s, options.verbose ? Infinity : 4));
  }
  lines.push(`Size: ${kib(r.input.bytes)} -> ${kib(r.output.bytes)} (${(r.output.bytes / r.input.bytes).toFixed(2)}x)`);
  const sc = r.speedCheck;
  if (sc) {
    lines.push(`Speed check (ONNX Runtime, CPU, optimization level ${sc.level}): ${sc.fused.length} of ${sc.planned} quantized groups fused into integer kernels`);
    if (sc.fused.length) lines.push(`  ${histogram(sc.fused.map((f) => f.kernel))}`);
    for (const u of sc.unfused.slice(0, options.verbose ? Infinity : 10)) lines.push(`  unfused: ${u.node} (${u.op}): ${u.reason}`);
    if (!options.verbose && sc.unfused.length > 10) lines.push(`  ... ${sc.unfused.length - 10} more unfused (--verbose lists all)`);
    const l = sc.latency;
    if (l) {
      const tried = l.candidates.length > 1 ? ` (placement ${l.chosen}; timed: ${l.candidates.map((c) => `${c.label} ${c.medianMs.toFixed(3)} ms`).join(', ')})` : '';
      lines.push(`  latency, batch ${l.batch ?? 1}, 1 thread: float32 ${l.floatMs.toFixed(3)} ms, quantized ${l.quantizedMs.toFixed(3)} ms: ${l.speedup.toFixed(2)}x${tried}`);
      if (l.verdict) lines.push(`  placement: ${l.verdict}`);
    }
  }
  if (r.budget) lines.push(...budgetLines(r.budget));
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** The variants the accuracy-budget search tried, the chosen one marked. */
function budgetLines(b: BudgetReport): string[] {
  const out = [`Accuracy budget: ${b.metric} drop <= ${b.maxDrop} ${b.unit}, prefer ${b.prefer}: ${b.stop} (${b.evaluations} evaluations, ${b.seconds.toFixed(1)} s)`];
  for (const v of b.variants) {
    const speed = v.latencyRatio ? `${(1 / v.latencyRatio).toFixed(2)}x float32` : 'not timed';
    out.push(`  ${v.label === b.chosen ? '*' : ' '} ${v.label.padEnd(32)} drop ${v.drop.toFixed(3).padStart(7)}  ${speed.padEnd(15)} ${kib(v.sizeBytes).padStart(10)}${v.withinBudget ? '' : '  over budget'}`);
  }
  out.push(`  ${b.verdict}`);
  return out;
}
