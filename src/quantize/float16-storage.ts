/**
 * The other half of folding float16-stored weights: after quantization, a weight that was stored
 * in float16 behind a Cast and is still a float32 initializer, unchanged (its op stayed float), is
 * stored in float16 again with its Cast, so the output is never larger than the model given.
 */
import { DataType } from '../ir/data-type.js';
import { Node } from '../ir/node.js';
import { Tensor } from '../ir/tensor.js';
import type { Model } from '../ir/model.js';
import type { FoldReport } from '../ir/passes/fold-constants.js';

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return false;
  return true;
}

/**
 * Returns the Casts added, one per weight stored in float16 again. By default only weights whose
 * values are the float16 ones given are restored; with `round` (pruning, which zeroes, slices or
 * refits weights) every weight that was stored in float16 is stored so again, rounded to float16.
 */
export function restoreFloat16Storage(model: Model, report: FoldReport, options: { round?: boolean } = {}): Node[] {
  const restored: Node[] = [];
  // The float16 tensor takes back its own name when folding freed it.
  const taken = new Set<string>();
  for (const g of model.graph.allGraphs()) for (const v of g.values()) taken.add(v.name);
  for (const g of model.graph.allGraphs()) {
    for (const v of [...g.initializers.values()]) {
      const source = report.float16.get(v.name);
      const t = v.constValue;
      if (!source || !t || t.dataType !== DataType.FLOAT || g.inputs.includes(v) || v.uses.length === 0) continue;
      const same = t.dims.join() === source.dims.join() && sameValues(t.toFloat32(), source.toFloat32());
      if (!same && !options.round) continue;
      g.removeInitializer(v, { force: true });
      v.constValue = undefined;
      const half = same ? Tensor.fromTyped(DataType.FLOAT16, [...source.dims], source.data()) : Tensor.fromFloat32(DataType.FLOAT16, [...t.dims], t.toFloat32());
      const name = source.name && !taken.has(source.name) ? source.name : model.names.fresh(`${v.name}_fp16`);
      taken.add(name);
      const stored = g.addInitializer(name, half);
      const cast = new Node('Cast', [stored], [v], { name: model.names.fresh(`${v.name}_cast`), attributes: { to: DataType.FLOAT } });
      if (g.nodes.length) g.insertBefore(g.nodes[0]!, cast);
      else g.append(cast);
      restored.push(cast);
    }
  }
  return restored;
}
