/**
 * The quantization report as a self-contained HTML page (`slimnet quantize --report q.html`): what
 * was done, and with an accuracy budget, every variant the search tried on a Pareto plot (speed
 * against accuracy drop, the budget as a line, the chosen one marked) with its table.
 */
import { CSS } from '../eval/report/html.js';
import { esc, responsive, scatterPlot } from '../eval/report/svg.js';
import { kib, type QuantizeReport } from './report.js';
import type { BudgetReport } from './static/budget-search.js';

function card(value: string, label: string, cls = ''): string {
  return `<div class="card"><b class="${cls}">${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function budgetSection(b: BudgetReport): string {
  const points = b.variants.map((v) => ({
    x: v.latencyRatio ? 1 / v.latencyRatio : NaN,
    y: v.drop,
    label: v.label,
    color: v.withinBudget ? '#3b73b9' : '#d64541',
    marked: v.label === b.chosen,
    tooltip: `${v.label}: drop ${v.drop.toFixed(3)} ${b.unit}, ${v.latencyRatio ? `${(1 / v.latencyRatio).toFixed(2)}x float32` : 'not timed'}, ${kib(v.sizeBytes)}`,
  }));
  const timed = points.filter((p) => Number.isFinite(p.x));
  const plot = timed.length
    ? responsive((layout) => scatterPlot(timed, { title: 'variants: speed against accuracy drop', xLabel: 'speed vs float32 (higher is faster)', yLabel: `${b.metric} drop, ${b.unit} (lower is better)`, hLine: { y: b.maxDrop, label: `budget ${b.maxDrop}` }, layout }))
    : '<p class="note">No variant inside the budget was timed (a target this machine cannot run, or a single variant).</p>';
  const rows = b.variants.map((v) => `<tr><td>${v.label === b.chosen ? '<b>' : ''}${esc(v.label)}${v.label === b.chosen ? ' (chosen)</b>' : ''}</td><td class="${v.withinBudget ? 'ok' : 'bad'}">${v.drop.toFixed(3)}</td><td>${v.latencyRatio ? `${(1 / v.latencyRatio).toFixed(2)}x` : '-'}</td><td>${esc(kib(v.sizeBytes))}</td><td>${v.keptFloat}</td></tr>`).join('');
  const kept = b.keptFloat.length ? `<p>Kept in float for the budget (most harmful first): ${b.keptFloat.map((n) => `<code>${esc(n)}</code>`).join(', ')}</p>` : '';
  return `<section><h2>Accuracy budget: ${esc(b.stop)}</h2><p>${esc(b.verdict)}</p>${plot}`
    + `<table><tr><th>variant</th><th>${esc(b.metric)} drop (${esc(b.unit)})</th><th>speed</th><th>size</th><th>nodes kept float</th></tr>${rows}</table>${kept}`
    + `<p class="note">Blue: inside the budget (≤ ${b.maxDrop} ${esc(b.unit)}), red: over it. ${b.evaluations} evaluations on ${b.samples} samples, ${b.seconds.toFixed(1)} s; reference ${esc(b.metric)} ${Number(b.referenceScore.toPrecision(4))}.</p></section>`;
}

export function formatQuantizeHtml(r: QuantizeReport): string {
  const title = `slimnet quantize: ${r.output.path}`;
  const settings = Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  const chosen = r.budget?.variants.find((v) => v.label === r.budget!.chosen);
  const cards = [
    card(`${(r.output.bytes / r.input.bytes).toFixed(2)}x`, `size (${kib(r.output.bytes)})`),
    card(`${r.counts.quantized}`, `nodes quantized (${r.counts.float} float)`),
    r.speedCheck?.latency ? card(`${r.speedCheck.latency.speedup.toFixed(2)}x`, `speed vs float32 (batch ${r.speedCheck.latency.batch ?? 1}, 1 thread)`, r.speedCheck.latency.speedup >= 1 ? 'ok' : 'bad') : '',
    chosen && r.budget ? card(`${chosen.drop.toFixed(2)}`, `${r.budget.metric} drop, ${r.budget.unit} (budget ${r.budget.maxDrop})`, chosen.withinBudget ? 'ok' : 'bad') : '',
  ].join('');
  const notes = [...(r.summary.notes ?? []).map((n) => `<li>${esc(n)}</li>`), ...r.summary.warnings.map((w) => `<li class="bad">${esc(w)}</li>`)].join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>`
    + `<h1>${esc(r.mode)} quantization</h1><p class="sub"><code>${esc(r.input.path)}</code> → <code>${esc(r.output.path)}</code>: ${esc(settings)}</p>`
    + `<div class="cards">${cards}</div>${r.budget ? budgetSection(r.budget) : ''}`
    + `${notes ? `<section><h2>Notes</h2><ul class="note">${notes}</ul></section>` : ''}`
    + `</main></body></html>\n`;
}
