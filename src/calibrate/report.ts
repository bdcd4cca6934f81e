/** A calibration result as text for people (the CLI's default output; `--json` prints rangesDocument). */
import type { CalibrationResult } from './types.js';
import { formatTarget } from './ranges/target.js';

const num = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toPrecision(4));
const pct = (x: number) => (x === 0 ? '0' : x < 1e-4 ? '<0.01%' : `${(x * 100).toFixed(2)}%`);

export function formatCalibration(r: CalibrationResult, options: { maxRows?: number } = {}): string {
  const lines: string[] = [];
  const method = r.method === 'percentile' ? `percentile ${r.percentile}` : r.method === 'minmax' && r.movingAverage ? 'minmax (moving average)' : r.method;
  lines.push(`Calibrated ${r.ranges.size} tensors on ${r.samples} samples: ${method}, for ${formatTarget(r.target)}`);
  const rows = r.diagnostics;
  const shown = rows.slice(0, options.maxRows ?? 40);
  const table = [['tensor', 'range', 'observed', 'clipped', 'notes'], ...shown.map((d) => [
    d.tensor,
    `[${num(d.range.min)}, ${num(d.range.max)}]`,
    `[${num(d.observed.min)}, ${num(d.observed.max)}]`,
    pct(d.clippedFraction),
    d.warnings.length ? `${d.warnings.length} warning${d.warnings.length > 1 ? 's' : ''}` : '',
  ])];
  const widths = table[0]!.map((_, i) => Math.min(60, Math.max(...table.map((row) => row[i]!.length))));
  for (const row of table) lines.push(`  ${row.map((c, i) => (c.length > widths[i]! ? `...${c.slice(c.length - widths[i]! + 3)}` : c.padEnd(widths[i]!))).join('  ').trimEnd()}`);
  if (rows.length > shown.length) lines.push(`  ... ${rows.length - shown.length} more (--json lists all)`);
  const warned = rows.filter((d) => d.warnings.length);
  if (warned.length) {
    lines.push('', 'Warnings:');
    for (const d of warned.slice(0, 20)) for (const w of d.warnings) lines.push(`  ${d.tensor}: ${w}`);
    if (warned.length > 20) lines.push(`  ... ${warned.length - 20} more tensors with warnings (--json lists all)`);
  }
  if (r.notes.length) lines.push('', 'Notes:', ...r.notes.map((n) => `  ${n}`));
  return lines.join('\n');
}
