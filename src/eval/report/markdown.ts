/** The evaluation as GitHub-flavoured Markdown, for pull requests and CI summaries. */
import type { EvalReport } from './eval-report.js';
import { gateDetail } from '../gate.js';
import { bytes, change, db, ms, num, outputSqnr, pct, ratio, score } from './format.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');
const table = (rows: string[][]) => [rows[0]!, rows[0]!.map(() => '---'), ...rows.slice(1)].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');

export function formatEvalMarkdown(r: EvalReport): string {
  const out: string[] = [];
  const verdict = r.gates.length ? (r.passed ? ' — gates passed ✅' : ' — gates FAILED ❌') : '';
  out.push(`### slimnet eval: \`${r.candidate.model}\` vs \`${r.reference.model}\`${verdict}`);
  out.push('');
  out.push(`${r.task} on \`${r.output}\`, ${r.samples} samples of \`${r.data.source}\` (sha256 \`${r.data.sha256.slice(0, 12)}\`)`);
  out.push('');
  const rows: string[][] = [['', 'reference', 'candidate', 'change']];
  for (const [name, m] of Object.entries(r.metrics)) rows.push([name, score(m.reference, m.fraction), score(m.candidate, m.fraction), change(m.drop, m.relativeDrop, m.fraction)]);
  if (r.speed) rows.push([`latency (median, ${r.speed.provider})`, ms(r.speed.reference.medianMs), ms(r.speed.candidate.medianMs), `${ratio(r.speed.speedup)} speedup`]);
  rows.push(['size', bytes(r.reference.sizeBytes as number), bytes(r.candidate.sizeBytes as number), ratio(r.sizeRatio)]);
  out.push(table(rows));
  out.push('');
  const outRows: string[][] = [['output', 'agreement', 'cosine', 'SQNR', 'MSE', 'max abs error']];
  for (const [name, o] of Object.entries(r.outputs)) outRows.push([`\`${name}\``, pct(o.agreement), num(o.cosine, 6), outputSqnr(o), num(o.mse), num(o.maxAbsError)]);
  out.push(table(outRows));
  if (r.layers) {
    out.push('', `<details><summary>Layers to blame (ranked by ${r.layers.rankBy})</summary>`, '');
    const lr: string[][] = [['#', 'layer', 'op', 'only this layer', 'quantizers']];
    r.layers.layers.slice(0, 20).forEach((l, i) => lr.push([String(i + 1), `\`${l.node}\``, l.op, l.only ? db(l.only.sqnrDb) : '-', db(l.quantSqnrDb)]));
    out.push(table(lr), '', ...r.layers.notes.map((n) => `> ${n}`), '', '</details>');
  }
  if (r.gates.length) {
    out.push('');
    for (const g of r.gates) out.push(`- ${g.passed ? '✅' : '❌'} \`${g.gate}\` ${gateDetail(g)}`);
  }
  for (const n of r.notes) out.push(`> note: ${n}`);
  for (const w of r.warnings) out.push(`> **warning:** ${w}`);
  return `${out.join('\n')}\n`;
}
