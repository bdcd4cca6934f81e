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
import { quantizeForKernel, zeroPointTensor } from '../channel-quant.js';
import { weightWords, type EncodingContext, type WeightEncoding } from '../weight-encoding.js';

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

/** Quantizes [dirs, 4h, in] for the target and returns it transposed to [dirs, in, 4h] with its scales. */
function quantizeGateWeight(t: Tensor, perChannel: boolean, encoding: EncodingContext): { values: Tensor; scales: Tensor; zeroPoints: Tensor; encoding: WeightEncoding; channelsAtRisk: number } {
  const [dirs, gates, inner] = t.dims as [number, number, number];
  // Per channel: one scale per (direction, gate row); per tensor: one scale per direction.
  // The kernel sums each gate row over `inner`; per-direction scales cover `gates` rows each.
  const q = perChannel
    ? quantizeForKernel(t.toFloat32(), [dirs * gates, inner], 0, encoding)
    : quantizeForKernel(t.toFloat32(), [dirs, gates * inner], 0, encoding, { axis: 0, dims: [dirs * gates, inner] });
  const out = q.type === 'int8' ? new Int8Array(q.values.length) : new Uint8Array(q.values.length);
  for (let d = 0; d < dirs; d++) {
    const base = d * gates * inner;
    for (let g = 0; g < gates; g++) for (let i = 0; i < inner; i++) out[base + i * gates + g] = q.values[base + g * inner + i]!;
  }
  const scaleDims = perChannel ? [dirs, gates] : [dirs];
  return {
    values: Tensor.fromTyped(q.type === 'int8' ? DataType.INT8 : DataType.UINT8, [dirs, inner, gates], out),
    scales: Tensor.fromTyped(DataType.FLOAT, scaleDims, q.scales),
    zeroPoints: zeroPointTensor(q, scaleDims),
    encoding: q.encoding,
    channelsAtRisk: q.channelsAtRisk,
  };
}

/** Rewrites the LSTM in place; returns a description. */
export function toDynamicQuantizeLSTM(model: Model, graph: Graph, node: Node, perChannel: boolean, encoding: EncodingContext): string {
  const names = model.names;
  const [dirs, gates] = node.input(1)!.constant!.dims as [number, number, number];
  const inputs = [...node.inputs];
  while (inputs.length < 8) inputs.push(null);
  const extra = [];
  const words: string[] = [];
  for (const i of [1, 2]) {
    const v = node.input(i)!;
    const q = quantizeGateWeight(v.constant!, perChannel, encoding);
    words.push(`${i === 1 ? 'W' : 'R'} ${weightWords({ perChannel, encoding: q.encoding, channelsAtRisk: q.channelsAtRisk }).replace(/ weights/, '')}`);
    const g = v.graph ?? graph;
    inputs[i] = g.addInitializer(names.fresh(`${v.name}_${q.values.dataType === DataType.INT8 ? 'int8' : 'uint8'}`), q.values);
    extra.push(g.addInitializer(names.fresh(`${v.name}_scale`), q.scales), g.addInitializer(names.fresh(`${v.name}_zero_point`), q.zeroPoints));
  }
  node.opType = 'DynamicQuantizeLSTM';
  node.domain = 'com.microsoft';
  node.attributes.delete('layout');
  node.setInputs([...inputs.slice(0, 8), ...extra]);
  return `${words.join(', ')} (${dirs} direction${dirs > 1 ? 's' : ''}, hidden ${gates / 4}), activations quantized at run time`;
}
