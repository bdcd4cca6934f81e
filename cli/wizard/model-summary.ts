/** The inspect summary the wizard shows for a model: a few lines that fit 80 columns. */
import type { InspectReport } from '../../src/inspect/inspect.js';
import { kib as formatBytes } from '../../src/quantize/report.js';

const shape = (s: (number | string | null)[] | null) => (s ? `[${s.map((d) => d ?? '?').join(',')}]` : '');
const ops = (list: { op: string; count: number }[], n: number) =>
  list.slice(0, n).map((o) => `${o.op} ${o.count}`).join(', ') + (list.length > n ? `, +${list.length - n} more` : '');

export function modelSummary(r: InspectReport): string[] {
  const opset = r.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  return [
    `${r.file ? `${formatBytes(r.file.bytes)}, ` : ''}IR ${r.irVersion}${opset ? `, opset ${opset}` : ''}, ${r.nodes.total} nodes, ${r.parameters.pytorchEquivalent.toLocaleString('en-US')} parameters`,
    ...r.inputs.slice(0, 3).map((i) => `in   ${i.name}: ${i.type}${shape(i.shape)}`),
    ...r.outputs.slice(0, 2).map((o) => `out  ${o.name}: ${o.type}${shape(o.shape)}`),
    `ops  ${ops(r.ops, 5)}`,
    `quantizable  ${r.candidates.quantize.length ? ops(r.candidates.quantize, 5) : 'none'}`,
  ];
}
