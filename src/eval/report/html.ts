/**
 * The evaluation as one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched):
 * headline numbers, accuracy / latency / size of each variant, per-layer error bars, and weight and
 * activation range plots. Sized to read without scrolling sideways from phone to desktop widths.
 */
import type { EvalReport } from './eval-report.js';
import { gateDetail } from '../gate.js';
import type { LayerAnalysis } from '../per-layer.js';
import { barChart, esc, rangePlot, responsive, sqnrColor, COMPACT, RANGE_LEGEND, type Bar } from './svg.js';
import { bytes, change, db, ms, num, outputSqnr, pct, ratio, score } from './format.js';

export const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:20px 16px 40px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6776;overflow-wrap:anywhere}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin-top:16px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 12px}.card b{display:block;font-size:22px}.card span{color:#5b6776;font-size:13px}
.ok{color:#2b7a52}.bad{color:#c0392b}section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 14px;margin-top:14px}
table{width:100%;border-collapse:collapse;table-layout:fixed}th,td{text-align:left;padding:5px 6px;border-bottom:1px solid #eef1f4;overflow-wrap:anywhere;vertical-align:top}
th{font-weight:600;color:#3d4a5a}.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}
svg{display:block;max-width:100%;height:auto}svg .lbl{font-size:12px;fill:#2d3846}svg .val{font-size:12px;fill:#2d3846}svg .val.bad{fill:#c0392b}svg .axis{font-size:11px;fill:#6b7684}
.note{color:#5b6776;font-size:13px}.narrow-only{display:none}
@media (max-width:640px){.wide-only{display:none}.narrow-only{display:block}main{padding:12px 8px 30px}section{padding:10px 8px}table{font-size:12.5px}th,td{padding:4px 3px}}section>h2:first-child{margin-top:4px}code{font-size:13px;overflow-wrap:anywhere}`;

function card(value: string, label: string, cls = ''): string {
  return `<div class="card"><b class="${cls}">${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function tableHtml(rows: string[][], head = true): string {
  const [h, ...body] = rows;
  const th = head ? `<tr>${h!.map((c) => `<th>${c}</th>`).join('')}</tr>` : '';
  return `<table>${th}${(head ? body : rows).map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
}

function variantsSection(r: EvalReport): string {
  const variants = [{ name: 'reference', m: r.reference, color: '#8a94a3' }, { name: 'candidate', m: r.candidate, color: '#3b73b9' }];
  const charts: string[] = [];
  const primary = r.metric ? r.metrics[r.metric] : undefined;
  if (primary && r.metric) {
    const bars: Bar[] = variants.map((v) => ({ label: v.name, value: (v.m[r.metric!] as number | null) ?? 0, text: score(v.m[r.metric!] as number | null, primary.fraction), color: v.color }));
    charts.push(`<div><h3 class="note">${esc(r.metric)}${primary.higherIsBetter ? ' (higher is better)' : ' (lower is better)'}</h3>${barChart(bars, { title: r.metric, layout: COMPACT })}</div>`);
  }
  if (r.speed) {
    const s = r.speed;
    const bars: Bar[] = [{ label: 'reference', value: s.reference.medianMs, text: ms(s.reference.medianMs), color: '#8a94a3' }, { label: 'candidate', value: s.candidate.medianMs, text: ms(s.candidate.medianMs), color: '#3b73b9' }];
    charts.push(`<div><h3 class="note">median latency, ${esc(s.provider)}, batch ${s.batch}, ${s.threads} thread(s) (lower is better)</h3>${barChart(bars, { title: 'latency', layout: COMPACT })}</div>`);
  }
  const sizes: Bar[] = variants.map((v) => ({ label: v.name, value: v.m.sizeBytes as number, text: bytes(v.m.sizeBytes as number), color: v.color }));
  charts.push(`<div><h3 class="note">size on disk (lower is better)</h3>${barChart(sizes, { title: 'size', layout: COMPACT })}</div>`);
  const rows: string[][] = [['', 'reference', 'candidate', 'change']];
  for (const [name, m] of Object.entries(r.metrics)) rows.push([esc(name), score(m.reference, m.fraction), score(m.candidate, m.fraction), change(m.drop, m.relativeDrop, m.fraction)]);
  if (r.speed) rows.push(['latency (median / p90)', `${ms(r.speed.reference.medianMs)} / ${ms(r.speed.reference.p90Ms)}`, `${ms(r.speed.candidate.medianMs)} / ${ms(r.speed.candidate.p90Ms)}`, `${ratio(r.speed.speedup)} speedup`]);
  rows.push(['size', bytes(r.reference.sizeBytes as number), bytes(r.candidate.sizeBytes as number), ratio(r.sizeRatio)]);
  rows.push(['sha256', `<code>${esc(String(r.reference.sha256).slice(0, 16))}</code>`, `<code>${esc(String(r.candidate.sha256).slice(0, 16))}</code>`, '']);
  return `<section><h2>Accuracy, latency and size of each variant</h2><div class="grid3">${charts.join('')}</div>${tableHtml(rows)}</section>`;
}

function outputsSection(r: EvalReport): string {
  const rows: string[][] = [['output', 'agreement', 'cosine (worst sample)', 'SQNR', 'MSE', 'max abs error']];
  for (const [name, o] of Object.entries(r.outputs)) rows.push([`<code>${esc(name)}</code>`, pct(o.agreement), `${num(o.cosine, 6)} (${num(o.cosineMin, 6)})`, outputSqnr(o), num(o.mse), num(o.maxAbsError)]);
  return `<section><h2>Outputs against the reference</h2>${tableHtml(rows)}</section>`;
}

const LAYER_LIMIT = 40;

function layersSection(a: LayerAnalysis): string {
  const shown = a.layers.slice(0, LAYER_LIMIT);
  const bars: Bar[] = shown.map((l) => {
    const v = a.rankBy === 'sensitivity' ? l.only!.sqnrDb : a.rankBy === 'recovery' ? l.allBut!.recoveryDb : l.quantSqnrDb;
    const text = a.rankBy === 'recovery' ? `+${v.toFixed(1)} dB` : db(v);
    return { label: l.node, value: v, text, color: a.rankBy === 'recovery' ? '#3b73b9' : sqnrColor(v), tooltip: `${l.node} (${l.op}): ${text}; quantizers ${db(l.quantSqnrDb)}; layer output ${db(l.outputSqnrDb)}` };
  });
  const what = a.rankBy === 'sensitivity' ? 'Model output SQNR when only this layer is quantized (shorter = more harmful)'
    : a.rankBy === 'recovery' ? 'Output SQNR gained by keeping only this layer in float (longer = more to gain)'
    : 'SQNR of each layer\'s own quantizers (shorter = noisier)';
  const rows: string[][] = [['#', 'layer', 'op', 'only this', 'quantizers', 'output vs float']];
  shown.forEach((l, i) => rows.push([String(i + 1), `<code>${esc(l.node)}</code>`, esc(l.op), l.only ? db(l.only.sqnrDb) : '-', db(l.quantSqnrDb), db(l.outputSqnrDb)]));
  const more = a.layers.length > LAYER_LIMIT ? `<p class="note">${a.layers.length - LAYER_LIMIT} more layers in the JSON report.</p>` : '';
  return `<section><h2>Layers to blame</h2><p class="note">${esc(what)}. ${a.samples} samples; the whole quantized model scores ${db(a.model.sqnrDb)} (agreement ${pct(a.model.agreement)}) against its float twin.</p>`
    + `${a.notes.length ? `<ul class="note">${a.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}${responsive((layout) => barChart(bars, { title: 'per-layer error', axis: 'dB', layout }))}${more}<details><summary>table</summary>${tableHtml(rows)}</details></section>`;
}

function rangesSection(a: LayerAnalysis): string {
  const byGraph = [...a.layers].sort((x, y) => x.position - y.position);
  const acts = new Map<string, { label: string; q: LayerAnalysis['layers'][number]['quantizers'][number] }>();
  const weights: { label: string; q: LayerAnalysis['layers'][number]['quantizers'][number] }[] = [];
  for (const l of byGraph) {
    for (const q of l.quantizers) {
      if (q.kind === 'activation' && !acts.has(q.tensor)) acts.set(q.tensor, { label: q.tensor, q });
      if (q.kind === 'weight') weights.push({ label: l.node, q });
    }
  }
  const rows = (list: { label: string; q: LayerAnalysis['layers'][number]['quantizers'][number] }[]) => list.slice(0, 60).map(({ label, q }) => ({
    label,
    representable: q.representable,
    observed: q.observed,
    tolerance: q.scale / 2,
    tooltip: `${q.tensor}${q.folded ? ` through the ${q.folded} the quantizer folded in` : ''} (${q.type}${q.perChannel ? ', per channel' : ''}): observed [${num(q.observed.min)}, ${num(q.observed.max)}], representable [${num(q.representable.min)}, ${num(q.representable.max)}]${q.clippedFraction ? `, ${pct(q.clippedFraction, 2)} clipped` : ''}; SQNR ${db(q.sqnrDb)}${q.exact ? '' : ' (estimated)'}`,
  }));
  return `<section><h2>Activation ranges</h2><p class="note">Float values seen on the samples against the range each activation quantizer covers, in graph order. ${esc(RANGE_LEGEND)}</p>${responsive((layout) => rangePlot(rows([...acts.values()]), 'activation ranges', layout))}</section>`
    + `<section><h2>Weight ranges</h2><p class="note">Weights against the range of their integer grid (widest channel for per-channel weights), one row per layer. ${esc(RANGE_LEGEND)}</p>${responsive((layout) => rangePlot(rows(weights), 'weight ranges', layout))}</section>`;
}

export function formatEvalHtml(r: EvalReport): string {
  const title = `slimnet eval: ${r.candidate.model} vs ${r.reference.model}`;
  const primary = r.metric ? r.metrics[r.metric] : undefined;
  const cards = [
    primary ? card(change(r.drop, null, primary.fraction), `${r.metric} change (${score(primary.reference, primary.fraction)} → ${score(primary.candidate, primary.fraction)})`, (r.drop ?? 0) > 0.5 ? 'bad' : 'ok') : '',
    r.speed ? card(ratio(r.speed.speedup), `speedup (${r.speed.provider}, batch ${r.speed.batch})`, r.speed.speedup >= 1 ? 'ok' : 'bad') : '',
    card(ratio(r.sizeRatio), `size (${bytes(r.candidate.sizeBytes as number)})`),
    card(pct(r.agreement), `top-1 agreement on ${r.output}`),
    card(r.outputs[r.output] ? outputSqnr(r.outputs[r.output]!) : db(r.sqnr), `output SQNR on ${r.output}`),
  ].join('');
  const gates = r.gates.length
    ? `<section><h2>Gates: <span class="${r.passed ? 'ok' : 'bad'}">${r.passed ? 'passed' : 'FAILED'}</span></h2><ul>${r.gates.map((g) => `<li class="${g.passed ? 'ok' : 'bad'}">${esc(g.gate)}: ${g.passed ? 'passed' : 'failed'} ${esc(gateDetail(g))}</li>`).join('')}</ul></section>`
    : '';
  const hw = r.hardware ? `${esc(r.hardware.cpuModel)}, ${r.hardware.cores} cores, int8 flags: ${esc(r.hardware.int8Flags.join(' ') || 'none')}; onnxruntime-node ${esc(r.hardware.ortVersion)}` : '';
  const notes = r.notes.length ? `<ul class="note">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>`
    + `<h1>${esc(r.task)} evaluation</h1><p class="sub"><code>${esc(r.candidate.model)}</code> against <code>${esc(r.reference.model)}</code> on ${r.samples} samples of <code>${esc(r.data.source)}</code></p>`
    + `<div class="cards">${cards}</div>${gates}${r.warnings.length ? `<section><h2 class="bad">Warnings</h2><ul>${r.warnings.map((w) => `<li class="bad">${esc(w)}</li>`).join('')}</ul></section>` : ''}${variantsSection(r)}${outputsSection(r)}`
    + `${r.layers ? layersSection(r.layers) + rangesSection(r.layers) : ''}`
    + `<section><h2>Provenance</h2><p class="note">data sha256 <code>${esc(r.data.sha256)}</code><br>${hw}<br>slimnet ${esc(r.slimnet)}, ${esc(r.createdAt)}</p>${notes}</section>`
    + `</main></body></html>\n`;
}
