/**
 * MatMul / Gemm with a constant weight -> dynamic int8: the weight is quantized to int8 now (per
 * output channel), the activation to uint8 at run time by the kernel, per tensor.
 *
 * 'contrib' form: one com.microsoft.DynamicQuantizeMatMul, with a following bias Add folded in.
 * 'onnx' form:    DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x_scale * w_scale) (+ Add bias).
 * Weights are signed where the target sums u8 x s8 exactly (VNNI: u8 x u8 weights measured 2x
 * slower there, 1.96 vs 1.02 ms); on x86 without VNNI weight-encoding.ts stores them so that the
 * kernels cannot saturate (int8 within the pair budget, or uint8 with zero point 128).
 */
import type { Graph } from '../../ir/graph.js';
import { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import type { Model } from '../../ir/model.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { quantizeForKernel, zeroPointTensor } from '../channel-quant.js';
import { weightWords, type EncodingContext, type WeightEncoding } from '../weight-encoding.js';
import { absorbOutput, findBiasAdd } from '../rewrite.js';
import type { LinearOp } from '../linear.js';

export interface Int8Weight {
  values: Value;
  scales: Value;
  /** Null for int8 weights (zero point 0 is the default); 128s for uint8 ones. */
  zeroPoint: Value | null;
  perChannel: boolean;
  encoding: WeightEncoding;
  channelsAtRisk: number;
}

/** Quantized weights by original weight value and transform, so shared weights are stored once. */
export class Int8WeightCache {
  private readonly cache = new Map<Value, Map<string, Int8Weight>>();
  constructor(private readonly model: Model, private readonly perChannel: boolean, private readonly encoding: EncodingContext) {}

  get(op: LinearOp): Int8Weight {
    let byKey = this.cache.get(op.weightValue);
    if (!byKey) this.cache.set(op.weightValue, (byKey = new Map()));
    const hit = byKey.get(op.weightKey);
    if (hit) return hit;
    // The kernel sums down each column of [K, N], also when one scale covers the whole weight.
    const q = quantizeForKernel(op.weight(), [op.K, op.N], this.perChannel ? 1 : undefined, this.encoding, { axis: 1 });
    // New initializers live where the weight lives, so nodes in subgraphs can still see them.
    const g = op.weightValue.graph ?? this.model.graph;
    const base = op.weightValue.name;
    const names = this.model.names;
    const scaleDims = this.perChannel ? [op.N] : [];
    const w: Int8Weight = {
      values: g.addInitializer(names.fresh(`${base}_${q.type}`), Tensor.fromTyped(q.type === 'int8' ? DataType.INT8 : DataType.UINT8, [op.K, op.N], q.values)),
      scales: g.addInitializer(names.fresh(`${base}_scale`), Tensor.fromTyped(DataType.FLOAT, scaleDims, q.scales)),
      zeroPoint: q.type === 'uint8' ? g.addInitializer(names.fresh(`${base}_zero_point`), zeroPointTensor(q, scaleDims)) : null,
      perChannel: this.perChannel,
      encoding: q.encoding,
      channelsAtRisk: q.channelsAtRisk,
    };
    byKey.set(op.weightKey, w);
    return w;
  }
}

/** Rewrites one linear op in place (contrib form); returns the node that now holds the result and a description. */
export function toDynamicQuantizeMatMul(model: Model, graph: Graph, op: LinearOp, weight: Int8Weight): { node: Node; detail: string } {
  const node = op.node;
  const names = model.names;
  let bias = op.bias;
  let folded = '';
  const fused = op.bias ? undefined : findBiasAdd(node.output(0), op.N);
  if (fused) {
    bias = fused.bias;
    folded = ', bias Add folded in';
  }
  const biasValue = bias ? graph.addInitializer(names.fresh(`${op.weightValue.name}_bias`), Tensor.fromTyped(DataType.FLOAT, [op.N], bias)) : null;
  node.opType = 'DynamicQuantizeMatMul';
  node.domain = 'com.microsoft';
  node.attributes.clear();
  node.setInputs([op.input, weight.values, weight.scales, weight.zeroPoint, biasValue]);
  if (fused) absorbOutput(graph, node.output(0), fused.add.output(0));
  return { node, detail: `${weightWords(weight)} [${op.K}x${op.N}], uint8 activations at run time${folded}` };
}

/** Rewrites one linear op into standard ONNX ops (opset >= 11); returns the new nodes, MatMulInteger first. */
export function toMatMulInteger(model: Model, graph: Graph, op: LinearOp, weight: Int8Weight): { nodes: Node[]; detail: string } {
  const names = model.names;
  const node = op.node;
  const base = node.name || node.output(0).name;
  const v = (suffix: string) => names.fresh(`${base}_${suffix}`);
  const dql = new Node('DynamicQuantizeLinear', [op.input], [v('x_uint8'), v('x_scale'), v('x_zero_point')], { name: v('quantize_input') });
  const [xq, xs, xz] = dql.outputs as [Value, Value, Value];
  const mmi = new Node('MatMulInteger', [xq, weight.values, xz, weight.zeroPoint], [v('int32')], { name: v('matmul_integer') });
  const cast = new Node('Cast', [mmi.output(0)], [v('int32_float')], { name: v('to_float'), attributes: { to: DataType.FLOAT } });
  const scale = new Node('Mul', [xs, weight.scales], [v('scale')], { name: v('scale') });
  const mul = new Node('Mul', [cast.output(0), scale.output(0)], [v('dequantized')], { name: v('dequantize') });
  const nodes = [dql, mmi, cast, scale, mul];
  let out = mul.output(0);
  if (op.bias) {
    const b = graph.addInitializer(names.fresh(`${op.weightValue.name}_bias`), Tensor.fromTyped(DataType.FLOAT, [op.N], op.bias));
    const add = new Node('Add', [out, b], [v('biased')], { name: v('bias') });
    nodes.push(add);
    out = add.output(0);
  }
  graph.insertBefore(node, ...nodes);
  absorbOutput(graph, out, node.output(0));
  return { nodes: [mmi, ...nodes.filter((n) => n !== mmi)], detail: `${weightWords(weight)} [${op.K}x${op.N}] as DynamicQuantizeLinear + MatMulInteger` };
}

