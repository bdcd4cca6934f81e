/** Number formatting shared by the text, Markdown and HTML reports. */

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(2)} ms` : `${x.toFixed(3)} ms`;
}

export function db(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'identical';
  if (x === Infinity) return 'identical';
  if (!Number.isFinite(x)) return 'n/a';
  return `${x.toFixed(1)} dB`;
}

/** The SQNR of one output, and how many of its elements were NaN or infinite (eval reports). */
export function outputSqnr(o: { sqnr: number | null; identical: boolean; elements: number; nonFinite: { reference: number; candidate: number } }): string {
  const { reference, candidate } = o.nonFinite;
  const counts = [candidate ? `${candidate} in the candidate only` : '', reference ? `${reference} in the reference, left out` : ''].filter(Boolean);
  const compared = o.elements - reference - candidate;
  const value = candidate ? '-inf dB' : !compared ? 'n/a' : o.sqnr !== null ? db(o.sqnr) : o.identical ? 'identical' : 'identical where the reference is finite';
  return counts.length ? `${value} (NaN/inf: ${counts.join('; ')})` : value;
}

export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return 'n/a';
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

export function ratio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)}x`;
}

/** A metric value: accuracies as percentages, others as numbers. */
export function score(x: number | null | undefined, fraction: boolean): string {
  return fraction ? pct(x) : num(x);
}

/** "-0.05 pt (-0.05%)": the change from reference to candidate, negative = worse. */
export function change(drop: number | null, relative: number | null, fraction: boolean): string {
  if (drop === null) return 'n/a';
  const sign = (x: number) => (x > 0 ? '-' : x < 0 ? '+' : '±');
  const abs = Math.abs(drop);
  const main = fraction ? `${sign(drop)}${abs.toFixed(2)} pt` : `${sign(drop)}${num(abs)}`;
  return relative === null ? main : `${main} (${sign(drop)}${Math.abs(relative).toFixed(2)}%)`;
}

/** Aligns rows of cells into columns for a terminal. */
export function columns(rows: string[][], gap = 2): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + gap))).join('').trimEnd()).join('\n');
}
