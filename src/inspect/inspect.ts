/** `slimnet inspect`: what a model is made of, with numbers that can be trusted. */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { DataType, dataTypeInfo, dataTypeName } from '../ir/data-type.js';
import { formatShape, formatType, isTensorType } from '../ir/types.js';
import { opSupport } from '../ops/op-support.js';
import { collectConstants } from './constants.js';

export interface InspectReport {
  schema: 'slimnet.inspect/1';
  file?: { path: string; bytes: number };
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: { name: string; version: string };
  domain: string;
  modelVersion?: number;
  metadata: Record<string, string>;
  inputs: { name: string; type: string; shape: (number | string | null)[] | null }[];
  outputs: { name: string; type: string; shape: (number | string | null)[] | null }[];
  nodes: { total: number; mainGraph: number; inSubgraphs: number };
  ops: { op: string; count: number }[];
  subgraphs: { node: string; op: string; attribute: string; nodes: number }[];
  functions: { domain: string; name: string; nodes: number }[];
  tensors: {
    byDataType: { dataType: string; tensors: number; elements: number; bytes: number }[];
    total: { tensors: number; elements: number; bytes: number };
    byPlace: Record<string, number>;
  };
  parameters: {
    /** Elements of floating-point initializers and Constant values (what ONNX stores as weights). */
    floatElements: number;
    /** Of those: BatchNormalization running mean/var (buffers, not parameters, in PyTorch). */
    batchNormStatistics: number;
    /** Of those: single-element float constants (epsilons, scale factors written by exporters). */
    floatScalars: number;
    /** floatElements - batchNormStatistics - floatScalars: comparable to PyTorch's parameter count. */
    pytorchEquivalent: number;
    /** Elements of quantized weights (int8/uint8/int4/uint4 feeding DequantizeLinear or MatMulNBits). */
    quantizedElements: number;
    /** Elements of other integer/bool constants (shapes, indices, axes). */
    integerElements: number;
    note: string;
  };
  externalData: { file: string; tensors: number; bytes: number }[];
  candidates: {
    quantize: { op: string; count: number }[];
    prune: { op: string; count: number }[];
  };
}

function countOps(nodes: Iterable<Node>): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of nodes) {
    const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

function sortedCounts(m: Map<string, number>): { op: string; count: number }[] {
  return [...m].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

const QUANTIZED_TYPES = new Set([DataType.INT8, DataType.UINT8, DataType.INT4, DataType.UINT4, DataType.INT16, DataType.UINT16]);

export function inspectModel(model: Model, path?: string): InspectReport {
  const g = model.graph;
  const all = [...g.allNodes()];
  const subgraphs: InspectReport['subgraphs'] = [];
  for (const n of all) {
    for (const [attr, a] of n.attributes) {
      const graphs = a.type === 5 ? [a.value] : a.type === 10 ? a.value : [];
      for (const sg of graphs) subgraphs.push({ node: n.name || `(${n.opType})`, op: n.opType, attribute: attr, nodes: [...sg.allNodes()].length });
    }
  }

  // Roles of constant values, from their consumers.
  const bnStats = new Set<unknown>();
  const quantizedWeights = new Set<unknown>();
  for (const n of [...all, ...model.functions.flatMap((f) => [...f.body.allNodes()])]) {
    if (n.opType === 'BatchNormalization') for (const i of [3, 4]) { const v = n.input(i); if (v?.constant) bnStats.add(v.constant); }
    if (n.opType === 'DequantizeLinear' || n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized') { const v = n.input(n.opType === 'GatherBlockQuantized' ? 0 : n.opType === 'MatMulNBits' ? 1 : 0); if (v?.constant) quantizedWeights.add(v.constant); }
  }

  const constants = collectConstants(model);
  const byType = new Map<number, { tensors: number; elements: number; bytes: number }>();
  const byPlace: Record<string, number> = {};
  const ext = new Map<string, { tensors: number; bytes: number }>();
  let floatElements = 0, bnElements = 0, floatScalars = 0, quantizedElements = 0, integerElements = 0;
  for (const c of constants) {
    const t = c.tensor;
    const row = byType.get(t.dataType) ?? { tensors: 0, elements: 0, bytes: 0 };
    row.tensors++;
    row.elements += t.size;
    row.bytes += t.byteLength;
    byType.set(t.dataType, row);
    byPlace[c.place] = (byPlace[c.place] ?? 0) + 1;
    const loc = t.externalLocation;
    if (loc && t.isExternal) {
      const e = ext.get(loc.location) ?? { tensors: 0, bytes: 0 };
      e.tensors++;
      e.bytes += loc.length;
      ext.set(loc.location, e);
    }
    if (c.place === 'attribute') continue; // attribute tensors of other ops (ConstantOfShape value) are not weights
    const info = dataTypeInfo(t.dataType);
    if (info.isFloat) {
      floatElements += t.size;
      if (bnStats.has(t)) bnElements += t.size;
      else if (t.size === 1) floatScalars += 1;
    } else if (quantizedWeights.has(t) && QUANTIZED_TYPES.has(t.dataType)) {
      quantizedElements += t.size;
    } else {
      integerElements += t.size;
    }
  }

  const quantize = new Map<string, number>();
  const prune = new Map<string, number>();
  for (const n of all) {
    const sup = opSupport(n.opType, n.domain);
    if (!sup || sup.role === 'none') continue;
    if (sup.role === 'weighted') {
      const hasConstWeight = sup.weights?.some((w) => n.input(w.index)?.constant !== undefined) ?? false;
      if (n.opType === 'MatMul' || n.opType === 'Gemm' || n.opType === 'Conv' || n.opType === 'ConvTranspose' || hasConstWeight) quantize.set(n.opType, (quantize.get(n.opType) ?? 0) + 1);
      if (hasConstWeight && sup.prunableAxis !== undefined) prune.set(n.opType, (prune.get(n.opType) ?? 0) + 1);
    } else if (sup.role === 'qlinear') {
      quantize.set(n.opType, (quantize.get(n.opType) ?? 0) + 1);
    }
  }

  const io = (v: import('../ir/value.js').Value) => ({
    name: v.name,
    type: isTensorType(v.type) ? dataTypeName(v.type.elemType) : formatType(v.type),
    shape: isTensorType(v.type) && v.type.shape ? v.type.shape : null,
  });

  const totals = [...byType.values()].reduce((a, r) => ({ tensors: a.tensors + r.tensors, elements: a.elements + r.elements, bytes: a.bytes + r.bytes }), { tensors: 0, elements: 0, bytes: 0 });
  const report: InspectReport = {
    schema: 'slimnet.inspect/1',
    irVersion: model.irVersion,
    opsets: [...model.opsetImports].map(([domain, version]) => ({ domain: domain || 'ai.onnx', version })),
    producer: { name: model.producerName, version: model.producerVersion },
    domain: model.domain,
    metadata: Object.fromEntries(model.metadataProps),
    inputs: g.inputs.filter((v) => !g.initializers.has(v.name)).map(io),
    outputs: g.outputs.map(io),
    nodes: { total: all.length, mainGraph: g.nodes.length, inSubgraphs: all.length - g.nodes.length },
    ops: sortedCounts(countOps(all)),
    subgraphs,
    functions: model.functions.map((f) => ({ domain: f.domain, name: f.name, nodes: [...f.body.allNodes()].length })),
    tensors: {
      byDataType: [...byType].sort((a, b) => b[1].bytes - a[1].bytes).map(([t, r]) => ({ dataType: dataTypeName(t), ...r })),
      total: totals,
      byPlace,
    },
    parameters: {
      floatElements,
      batchNormStatistics: bnElements,
      floatScalars,
      pytorchEquivalent: floatElements - bnElements - floatScalars,
      quantizedElements,
      integerElements,
      note: 'Counts every stored tensor once (initializers, Constant nodes, sparse initializers, in all subgraphs and functions). ' +
        'BatchNorm running mean/var are weights in ONNX but buffers in PyTorch, and exporters add float scalars (epsilons, scale factors); ' +
        'both are subtracted in pytorchEquivalent. ONNX does not record other buffers (e.g. fixed positional encodings), which stay counted.',
    },
    externalData: [...ext].map(([file, e]) => ({ file, ...e })),
    candidates: { quantize: sortedCounts(quantize), prune: sortedCounts(prune) },
  };
  if (model.modelVersion !== undefined) report.modelVersion = model.modelVersion;
  if (path) report.file = { path, bytes: statSync(path).size };
  return report;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The terminal rendering of an inspect report. */
export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [];
  const title = r.file ? `${basename(r.file.path)} (${fmtBytes(r.file.bytes)})` : 'model';
  lines.push(title);
  lines.push(`  IR version ${r.irVersion}; opsets ${r.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`);
  if (r.producer.name) lines.push(`  producer ${r.producer.name} ${r.producer.version}`.trimEnd());
  for (const [k, v] of Object.entries(r.metadata)) lines.push(`  metadata ${k} = ${v.length > 60 ? `${v.slice(0, 57)}...` : v}`);
  lines.push('');
  lines.push('Inputs');
  for (const v of r.inputs) lines.push(`  ${v.name}: ${v.type}${formatShape(v.shape ?? undefined)}`);
  lines.push('Outputs');
  for (const v of r.outputs) lines.push(`  ${v.name}: ${v.type}${formatShape(v.shape ?? undefined)}`);
  lines.push('');
  lines.push(`Nodes: ${fmtCount(r.nodes.total)}${r.nodes.inSubgraphs ? ` (${fmtCount(r.nodes.mainGraph)} in the main graph, ${fmtCount(r.nodes.inSubgraphs)} in subgraphs)` : ''}`);
  const width = Math.max(...r.ops.map((o) => o.op.length), 4);
  for (const o of r.ops) lines.push(`  ${o.op.padEnd(width)}  ${String(o.count).padStart(6)}`);
  if (r.subgraphs.length) {
    lines.push(`Subgraphs: ${r.subgraphs.length}`);
    for (const s of r.subgraphs.slice(0, 12)) lines.push(`  ${s.node} (${s.op}).${s.attribute}: ${s.nodes} nodes`);
    if (r.subgraphs.length > 12) lines.push(`  ... and ${r.subgraphs.length - 12} more`);
  }
  if (r.functions.length) {
    lines.push(`Functions: ${r.functions.length}`);
    for (const f of r.functions) lines.push(`  ${f.domain}.${f.name}: ${f.nodes} nodes`);
  }
  lines.push('');
  const p = r.parameters;
  lines.push(`Parameters: ${fmtCount(p.pytorchEquivalent)} (PyTorch-comparable)`);
  lines.push(`  float weights stored   ${fmtCount(p.floatElements).padStart(14)}`);
  if (p.batchNormStatistics) lines.push(`  - BatchNorm mean/var    ${fmtCount(p.batchNormStatistics).padStart(14)}  (buffers in PyTorch)`);
  if (p.floatScalars) lines.push(`  - float scalars        ${fmtCount(p.floatScalars).padStart(14)}  (epsilons, constants)`);
  if (p.quantizedElements) lines.push(`  quantized weights      ${fmtCount(p.quantizedElements).padStart(14)}`);
  if (p.integerElements) lines.push(`  integer constants      ${fmtCount(p.integerElements).padStart(14)}  (shapes, indices)`);
  lines.push(`Tensors: ${fmtCount(r.tensors.total.tensors)}, ${fmtBytes(r.tensors.total.bytes)} (${Object.entries(r.tensors.byPlace).map(([k, v]) => `${v} ${k}`).join(', ')})`);
  for (const t of r.tensors.byDataType) lines.push(`  ${t.dataType.padEnd(10)} ${String(t.tensors).padStart(6)} tensors ${fmtCount(t.elements).padStart(14)} elements ${fmtBytes(t.bytes).padStart(11)}`);
  if (r.externalData.length) {
    lines.push('External data');
    for (const e of r.externalData) lines.push(`  ${e.file}: ${e.tensors} tensors, ${fmtBytes(e.bytes)}`);
  }
  lines.push('');
  const list = (xs: { op: string; count: number }[]) => (xs.length ? xs.map((x) => `${x.op} ${x.count}`).join(', ') : 'none');
  lines.push(`Quantization candidates: ${list(r.candidates.quantize)}`);
  lines.push(`Pruning candidates: ${list(r.candidates.prune)}`);
  return lines.join('\n');
}

export { fmtBytes };
