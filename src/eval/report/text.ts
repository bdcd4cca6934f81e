/** The evaluation as terminal text: the table people read after `slimnet eval`. */
import type { EvalReport } from './eval-report.js';
import { gateDetail } from '../gate.js';
import type { LayerAnalysis } from '../per-layer.js';
import { bytes, change, columns, db, ms, num, outputSqnr, pct, ratio, score } from './format.js';

export function formatEvalText(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`${r.task} on '${r.output}', ${r.samples} samples of ${r.data.source}`);
  lines.push('');
  const rows: string[][] = [['', 'reference', 'candidate', 'change']];
  for (const [name, m] of Object.entries(r.metrics)) {
    rows.push([name, score(m.reference, m.fraction), score(m.candidate, m.fraction), change(m.drop, m.relativeDrop, m.fraction)]);
  }
  if (r.speed) {
    const s = r.speed;
    rows.push(['latency (median)', ms(s.reference.medianMs), ms(s.candidate.medianMs), `${ratio(s.speedup)} ${s.speedup >= 1 ? 'faster' : 'slower'}`]);
    rows.push(['latency (p90)', ms(s.reference.p90Ms), ms(s.candidate.p90Ms), '']);
  }
  rows.push(['size', bytes(r.reference.sizeBytes as number), bytes(r.candidate.sizeBytes as number), `${ratio(r.sizeRatio)}`]);
  lines.push(columns(rows));
  lines.push('');
  for (const [name, o] of Object.entries(r.outputs)) {
    lines.push(`output ${name}: ${o.identical ? 'identical to the reference' : `agreement ${pct(o.agreement)}, cosine ${num(o.cosine, 6)} (worst sample ${num(o.cosineMin, 6)}), SQNR ${outputSqnr(o)}, MSE ${num(o.mse)}, max abs error ${num(o.maxAbsError)}`}`);
  }
  if (r.speed) lines.push(`speed: ${r.speed.provider}, ${r.speed.threads} thread${r.speed.threads > 1 ? 's' : ''}, batch ${r.speed.batch}, ${r.speed.runs} interleaved runs`);
  if (r.layers) lines.push('', formatLayersText(r.layers, 10));
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.gates.length) {
    lines.push('');
    for (const g of r.gates) lines.push(`gate ${g.gate}: ${g.passed ? 'passed' : 'FAILED'} ${gateDetail(g)}`);
  }
  return lines.join('\n');
}

const RANK_TITLE = {
  sensitivity: 'output SQNR with only this layer quantized',
  recovery: 'output SQNR gained by keeping only this layer in float',
  quantization: 'SQNR of the layer\'s own quantizers',
} as const;

/** The layers to blame, worst first. */
export function formatLayersText(a: LayerAnalysis, top = a.layers.length): string {
  const rows: string[][] = [['#', 'layer', 'op', 'only this', 'all but this', 'quantizers', 'worst quantizer']];
  a.layers.slice(0, top).forEach((l, i) => {
    const worst = [...l.quantizers].filter((q) => q.kind !== 'bias').sort((x, y) => x.sqnrDb - y.sqnrDb)[0];
    const clip = worst && worst.clippedFraction > 0.001 ? `, clips ${pct(worst.clippedFraction, 1)}` : '';
    rows.push([
      String(i + 1), l.node, l.op,
      l.only ? db(l.only.sqnrDb) : '-',
      l.allBut ? `${l.allBut.recoveryDb >= 0 ? '+' : ''}${l.allBut.recoveryDb.toFixed(1)} dB` : '-',
      db(l.quantSqnrDb),
      worst ? `${worst.kind} ${worst.tensor}${clip}` : '-',
    ]);
  });
  const head = `Layers to blame (ranked by ${RANK_TITLE[a.rankBy]}; ${a.samples} samples; whole model ${db(a.model.sqnrDb)}, agreement ${pct(a.model.agreement)} against its float twin):`;
  const more = a.layers.length > top ? `\n(${a.layers.length - top} more layers in --json or the HTML report)` : '';
  const notes = a.notes.map((n) => `\nnote: ${n}`).join('');
  return `${head}\n${columns(rows)}${more}${notes}`;
}
