/**
 * Embedding lookups seen as one thing: Gather along axis 0 of a constant float table [rows, width].
 * Dynamic mode (int8 rows) and weight-only mode (GatherBlockQuantized) both start from this view.
 */
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { DataType } from '../ir/data-type.js';

export interface EmbeddingLookup {
  node: Node;
  table: Value;
  indices: Value;
  rows: number;
  width: number;
}

/** The lookup a Gather performs, or the reason it is not an embedding lookup. */
export function analyzeEmbedding(node: Node): EmbeddingLookup | string {
  const table = node.input(0);
  const indices = node.input(1);
  const t = table?.constant;
  if (!table || !indices || !t) return 'the gathered data is not a constant table';
  if (t.dataType !== DataType.FLOAT) return 'the table is not float32';
  if (t.dims.length !== 2) return 'the table is not 2-D [vocabulary, width]';
  const axis = node.getInt('axis', 0);
  if (axis !== 0 && axis !== -2) return 'Gather is not along the rows (axis 0)';
  return { node, table, indices, rows: t.dims[0]!, width: t.dims[1]! };
}

/** ' (the float table is still used by ...)' when other nodes keep the float table alive. */
export function sharedTableNote(table: Value): string {
  const others = table.consumers().length;
  return others > 0 ? ` (the float table is still used by ${others} other node(s), so the file grows)` : '';
}
