/**
 * LSTM -> com.microsoft.DynamicQuantizeLSTM: W and R become int8 (per gate channel, or per
 * direction), transposed to the kernel's layout [dirs, in, 4h] / [dirs, h, 4h]; the input and hidden
 * state are quantized at run time inside the kernel. Attributes carry over (the contrib op has no
 * `layout`, so batch-first LSTMs stay in float).
 */
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Model } from '../../ir/model.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { quantizeSymmetric } from '../channel-quant.js';
import type { ResolvedDynamicOptions } from './options.js';

/** Why this LSTM cannot become DynamicQuantizeLSTM, or undefined when it can. */
export function lstmBlocker(node: Node): string | undefined {
  for (const [i, what] of [[1, 'W'], [2, 'R']] as const) {
    const t = node.input(i)?.constant;
    if (!t) return `${what} is not a constant`;
    if (t.dataType !== DataType.FLOAT) return `${what} is not float32`;
    if (t.dims.length !== 3) return `${what} is not 3-D`;
  }
  if (node.getInt('layout', 0) !== 0) return 'batch-first layout (layout=1) has no DynamicQuantizeLSTM equivalent';
  return undefined;
}

/** Quantizes [dirs, 4h, in] to int8 and returns it transposed to [dirs, in, 4h] with its scales. */
function quantizeGateWeight(t: Tensor, perChannel: boolean, reduceRange: boolean): { values: Tensor; scales: Tensor; zeroPoints: Tensor } {
  const [dirs, gates, inner] = t.dims as [number, number, number];
  // Per channel: one scale per (direction, gate row); per tensor: one scale per direction.
  const q = perChannel ? quantizeSymmetric(t.toFloat32(), [dirs * gates, inner], 0, reduceRange) : quantizeSymmetric(t.toFloat32(), [dirs, gates * inner], 0, reduceRange);
  const out = new Int8Array(q.values.length);
  for (let d = 0; d < dirs; d++) {
    const base = d * gates * inner;
    for (let g = 0; g < gates; g++) for (let i = 0; i < inner; i++) out[base + i * gates + g] = q.values[base + g * inner + i]!;
  }
  const scaleDims = perChannel ? [dirs, gates] : [dirs];
  return {
    values: Tensor.fromTyped(DataType.INT8, [dirs, inner, gates], out),
    scales: Tensor.fromTyped(DataType.FLOAT, scaleDims, q.scales),
    zeroPoints: Tensor.fromTyped(DataType.INT8, scaleDims, new Int8Array(q.scales.length)),
  };
}

/** Rewrites the LSTM in place; returns a description. */
export function toDynamicQuantizeLSTM(model: Model, graph: Graph, node: Node, options: ResolvedDynamicOptions): string {
  const names = model.names;
  const [dirs, gates] = node.input(1)!.constant!.dims as [number, number, number];
  const inputs = [...node.inputs];
  while (inputs.length < 8) inputs.push(null);
  const extra = [];
  for (const i of [1, 2]) {
    const v = node.input(i)!;
    const q = quantizeGateWeight(v.constant!, options.perChannel, options.reduceRange);
    const g = v.graph ?? graph;
    inputs[i] = g.addInitializer(names.fresh(`${v.name}_int8`), q.values);
    extra.push(g.addInitializer(names.fresh(`${v.name}_scale`), q.scales), g.addInitializer(names.fresh(`${v.name}_zero_point`), q.zeroPoints));
  }
  node.opType = 'DynamicQuantizeLSTM';
  node.domain = 'com.microsoft';
  node.attributes.delete('layout');
  node.setInputs([...inputs.slice(0, 8), ...extra]);
  return `int8 ${options.perChannel ? 'per-channel' : 'per-direction'} W and R (${dirs} direction${dirs > 1 ? 's' : ''}, hidden ${gates / 4}), activations quantized at run time`;
}
