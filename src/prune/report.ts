/** The prune report: JSON (schema slimnet.prune/1) and the text the CLI prints. */
import type { PruneSummary } from './types.js';
import type { PruneCheck } from './check.js';
import { outputSqnr } from '../eval/report/format.js';
import { finite } from '../eval/report/eval-report.js';

export interface PruneReport {
  schema: 'slimnet.prune/1';
  input: { path: string };
  output: { path: string };
  settings: Record<string, string | number | boolean>;
  summary: PruneSummary;
  check: PruneCheck;
  /** The CPU the latency was measured on. */
  cpu?: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const kb = (b: number) => (b >= 10 * 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} KB`);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`);
}

export function formatPruneReport(r: PruneReport, options: { verbose?: boolean } = {}): string {
  const s = r.summary;
  const limit = options.verbose ? Infinity : 20;
  const lines = [`slimnet prune: ${r.input.path} -> ${r.output.path}`];
  const how = s.pattern ? `pattern ${s.pattern}` : `sparsity ${s.sparsity}`;
  lines.push(`method ${s.method}, scope ${s.scope}, ${how}`);
  if (s.method !== 'channel') {
    lines.push(`pruned ${s.layers.length} layer${s.layers.length === 1 ? '' : 's'}: ${pct(s.achieved.prunedLayers)} of their weights are zero (${pct(s.achieved.model)} of all weights)`);
    const rows = [['layer', 'op', 'params', 'zeros', 'method'], ...s.layers.slice(0, limit).map((l) => [l.node, l.op, String(l.params), pct(l.sparsity), l.method + (l.note ? ` (${l.note})` : '')])];
    lines.push(...table(rows));
    if (s.layers.length > limit) lines.push(`  ... ${s.layers.length - limit} more layers (--verbose lists them)`);
  } else if (s.channels) {
    const c = s.channels;
    const before = c.groups.reduce((a, g) => a + g.before, 0);
    const after = c.groups.reduce((a, g) => a + g.after, 0);
    lines.push(`cut ${before - after} of ${before} units in ${c.groups.length} dependency groups; weights ${s.params.before} -> ${s.params.after}${c.macs ? `, MACs ${(c.macs.before / 1e6).toFixed(1)}M -> ${(c.macs.after / 1e6).toFixed(1)}M (${(c.macs.after / c.macs.before).toFixed(2)}x)` : ''}`);
    const rows = [['group', 'units', 'kept', 'members', 'refitted'], ...c.groups.slice(0, limit).map((g) => [String(g.id), `${g.before} ${g.unit}s`, String(g.after), g.members.slice(0, 2).join(', ') + (g.members.length > 2 ? `, +${g.members.length - 2}` : ''), g.reconstructed.length ? String(g.reconstructed.length) : '-'])];
    lines.push(...table(rows));
    if (c.groups.length > limit) lines.push(`  ... ${c.groups.length - limit} more groups (--verbose lists them)`);
    for (const b of c.blocked.slice(0, options.verbose ? Infinity : 8)) lines.push(`  left alone (${b.units} units, ${b.members.slice(0, 2).join(', ')}${b.members.length > 2 ? ', ...' : ''}): ${b.reason}`);
    if (!options.verbose && c.blocked.length > 8) lines.push(`  ... ${c.blocked.length - 8} more groups left alone (--verbose lists them)`);
  }
  const skipped = s.skipped.filter((x) => !x.reason.includes('--include-first-last'));
  for (const x of skipped.slice(0, options.verbose ? Infinity : 8)) lines.push(`  skipped ${x.node} (${x.op}): ${x.reason}`);
  if (!options.verbose && skipped.length > 8) lines.push(`  ... ${skipped.length - 8} more skipped (--verbose lists them)`);
  const k = r.check;
  lines.push(`size: ${kb(k.sizes.before.raw)} -> ${kb(k.sizes.after.raw)} raw, ${kb(k.sizes.before.compressed)} -> ${kb(k.sizes.after.compressed)} gzip (${(k.sizes.after.compressed / k.sizes.before.compressed).toFixed(2)}x)`);
  if (k.latency) {
    lines.push(`latency${r.cpu ? ` on ${r.cpu}` : ''} (ONNX Runtime CPU, 1 thread, batch 1, ${k.latency.inputs} inputs, median of ${k.latency.runs} interleaved runs): ${k.latency.referenceMs.toFixed(3)} ms -> ${k.latency.prunedMs.toFixed(3)} ms (${k.latency.speedup.toFixed(2)}x)`);
  }
  if (k.accuracy) {
    const a = k.accuracy;
    lines.push(`accuracy on ${a.data} (${a.samples} samples): ${a.metric} ${fmtMetric(a.reference)} -> ${fmtMetric(a.pruned)} (drop ${a.drop.toFixed(2)} points)`);
  } else if (k.fidelity) {
    const f = k.fidelity;
    const sqnr = outputSqnr({ ...f, sqnr: finite(f.sqnrDb) });
    lines.push(`outputs vs the original on ${f.data} (${f.samples} samples, no labels): SQNR ${sqnr}, cosine ${Number.isFinite(f.cosine) ? f.cosine.toFixed(4) : 'n/a'}${f.agreement !== null ? `, agreement ${pct(f.agreement)}` : ''}`);
  } else lines.push('accuracy: not measured (give --eval-data with labels, or --calib to compare outputs)');
  for (const t of s.search ?? []) lines.push(`  tried sparsity ${t.sparsity}: ${t.metric} drop ${t.drop.toFixed(2)} ${t.withinBudget ? '(within budget)' : '(over budget)'}`);
  lines.push(`hardware: ${s.hardware}`);
  for (const n of [...s.notes, ...k.notes]) lines.push(`note: ${n}`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function fmtMetric(x: number): string {
  return x <= 1 ? `${(x * 100).toFixed(2)}%` : x.toFixed(4);
}
