/**
 * Embedding tables (Gather on a constant [V, D] table along axis 0) stored as int8 with one scale
 * per row: Gather the int8 rows and their scales, then Cast and Mul. Only the gathered rows are
 * dequantized at run time, unlike DequantizeLinear -> Gather, which would expand the whole table on
 * every run. Standard ops only, any opset.
 */
import type { Graph } from '../../ir/graph.js';
import { Node } from '../../ir/node.js';
import type { Model } from '../../ir/model.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { quantizeSymmetric } from '../channel-quant.js';
import { absorbOutput } from '../rewrite.js';
import { sharedTableNote, type EmbeddingLookup } from '../embedding-table.js';

export function quantizeEmbedding(model: Model, graph: Graph, lookup: EmbeddingLookup, reduceRange: boolean): { nodes: Node[]; detail: string } {
  const { node, table, indices, rows, width } = lookup;
  const q = quantizeSymmetric(table.constant!.toFloat32(), [rows, width], 0, reduceRange);
  const g = table.graph ?? graph;
  const names = model.names;
  const qTable = g.addInitializer(names.fresh(`${table.name}_int8`), Tensor.fromTyped(DataType.INT8, [rows, width], q.values));
  const scales = g.addInitializer(names.fresh(`${table.name}_row_scale`), Tensor.fromTyped(DataType.FLOAT, [rows, 1], q.scales));
  const base = node.name || node.output(0).name;
  const v = (s: string) => names.fresh(`${base}_${s}`);
  const gatherRows = new Node('Gather', [qTable, indices], [v('int8')], { name: v('gather_int8'), attributes: { axis: 0 } });
  const gatherScales = new Node('Gather', [scales, indices], [v('scale')], { name: v('gather_scale'), attributes: { axis: 0 } });
  const cast = new Node('Cast', [gatherRows.output(0)], [v('float')], { name: v('to_float'), attributes: { to: DataType.FLOAT } });
  const mul = new Node('Mul', [cast.output(0), gatherScales.output(0)], [v('dequantized')], { name: v('dequantize') });
  graph.insertBefore(node, gatherRows, gatherScales, cast, mul);
  absorbOutput(graph, mul.output(0), node.output(0));
  return { nodes: [gatherRows, gatherScales, cast, mul], detail: `int8 embedding table [${rows}x${width}], one scale per row${sharedTableNote(table)}` };
}
