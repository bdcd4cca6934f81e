/**
 * Embedding tables in 4 or 8 bits: Gather on a constant [rows, width] table becomes
 * com.microsoft.GatherBlockQuantized, blocks of `blockSize` along the width of each row, dequantized
 * only for the rows gathered. The codes reuse the MatMul layout with K = width and N = rows, which
 * is exactly the row-major table.
 *
 * In standard ONNX (--format qdq) the rows are gathered first, codes, scales and zero points alike,
 * and only they are dequantized (blocked DequantizeLinear, opset 21, along the width). That form
 * is 8-bit only: ONNX's Gather has no 4-bit type (ORT refuses a uint4 table as an invalid model),
 * and dequantizing a 4-bit table before the Gather would expand all of it on every run.
 */
import { Node } from '../../ir/node.js';
import type { Model } from '../../ir/model.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { transpose2d } from '../channel-quant.js';
import type { EmbeddingLookup } from '../embedding-table.js';
import { blockCount, quantizeRtn, type BlockQuantized, type BlockSpec } from './block-quant.js';

/** Quantizes the table by rows: K = width (blocked), N = rows. */
export function quantizeTable(lookup: EmbeddingLookup, spec: BlockSpec): BlockQuantized {
  const table = lookup.table.constant!.toFloat32();
  return quantizeRtn(transpose2d(table, lookup.rows, lookup.width), lookup.width, lookup.rows, spec);
}

function dataTensor(q: BlockQuantized): Tensor {
  const dims = [q.N, q.K];
  if (q.spec.bits === 8) return Tensor.fromTyped(DataType.UINT8, dims, q.codes); // zero point 128 by default, as codes are stored
  if (q.zeroPoints) return Tensor.fromTyped(DataType.UINT4, dims, q.codes);
  return Tensor.fromTyped(DataType.INT4, dims, Int8Array.from(q.codes, (c) => c - 8));
}

/** Rewrites the Gather in place. */
export function emitGatherBlockQuantized(model: Model, lookup: EmbeddingLookup, q: BlockQuantized): Node {
  const { node, table, indices } = lookup;
  const g = table.graph ?? node.graph!;
  const names = model.names;
  const kb = blockCount(q.K, q.spec.blockSize);
  const data = g.addInitializer(names.fresh(`${table.name}_q${q.spec.bits}`), dataTensor(q));
  const scales = g.addInitializer(names.fresh(`${table.name}_scales`), Tensor.fromTyped(DataType.FLOAT, [q.N, kb], q.scales));
  const zpType = q.spec.bits === 8 ? DataType.UINT8 : DataType.UINT4;
  const zp = q.zeroPoints ? g.addInitializer(names.fresh(`${table.name}_zero_points`), Tensor.fromTyped(zpType, [q.N, kb], q.zeroPoints)) : null;
  node.opType = 'GatherBlockQuantized';
  node.domain = 'com.microsoft';
  node.attributes.clear();
  node.setAttr('gather_axis', 0);
  node.setAttr('quantize_axis', 1);
  node.setAttr('block_size', q.spec.blockSize);
  node.setAttr('bits', q.spec.bits);
  node.setInputs(zp ? [data, indices, scales, zp] : [data, indices, scales]);
  return node;
}

/** Rewrites the Gather in place into Gather (codes, scales, zero points) -> DequantizeLinear: 8 bits only. */
export function emitGatherDequantize(model: Model, lookup: EmbeddingLookup, q: BlockQuantized): Node {
  if (q.spec.bits !== 8) throw new Error('emitGatherDequantize: the standard ONNX table form is 8-bit only');
  const { node, table, indices } = lookup;
  const g = table.graph ?? node.graph!;
  const names = model.names;
  const kb = blockCount(q.K, q.spec.blockSize);
  const data = g.addInitializer(names.fresh(`${table.name}_q8`), dataTensor(q));
  const scales = g.addInitializer(names.fresh(`${table.name}_scales`), Tensor.fromTyped(DataType.FLOAT, [q.N, kb], q.scales));
  // DequantizeLinear's default zero point is 0, the codes' is 128 when symmetric: always written.
  const zp = g.addInitializer(names.fresh(`${table.name}_zero_points`), Tensor.fromTyped(DataType.UINT8, [q.N, kb], q.zeroPoints ?? new Uint8Array(q.N * kb).fill(128)));
  const label = node.name || node.output(0).name;
  const gathered = [data, scales, zp].map((v, i) => {
    const part = ['codes', 'scales', 'zero_points'][i]!;
    const n = new Node('Gather', [v, indices], [names.fresh(`${label}_${part}`)], { name: names.fresh(`${label}_gather_${part}`), attributes: { axis: 0 } });
    g.insertBefore(node, n);
    return n.output(0);
  });
  node.opType = 'DequantizeLinear';
  node.domain = '';
  node.attributes.clear();
  node.setAttr('axis', -1);
  node.setAttr('block_size', q.spec.blockSize);
  node.setInputs(gathered);
  return node;
}
