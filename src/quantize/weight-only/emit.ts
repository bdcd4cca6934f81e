/** Writes a block-quantized linear op into the graph, as MatMulNBits or as blocked DequantizeLinear -> MatMul. */
import type { Graph } from '../../ir/graph.js';
import { Node } from '../../ir/node.js';
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { absorbOutput, findBiasAdd } from '../rewrite.js';
import type { LinearOp } from '../linear.js';
import type { BlockQuantized } from './block-quant.js';
import { toBlockedDequantizeLinear, toMatMulNBits } from './pack.js';
import type { AccuracyLevel } from './options.js';

function addBias(model: Model, graph: Graph, op: LinearOp, bias: Float32Array): Value {
  return graph.addInitializer(model.names.fresh(`${op.weightValue.name}_bias`), Tensor.fromTyped(DataType.FLOAT, [op.N], bias));
}

/** Rewrites the op in place into com.microsoft.MatMulNBits, folding a following bias Add. */
export function emitMatMulNBits(model: Model, graph: Graph, op: LinearOp, q: BlockQuantized, accuracyLevel: AccuracyLevel): { node: Node; biasFolded: boolean } {
  const t = toMatMulNBits(q);
  const g = op.weightValue.graph ?? graph;
  const base = op.weightValue.name;
  const names = model.names;
  const B = g.addInitializer(names.fresh(`${base}_q${q.spec.bits}`), t.B);
  const scales = g.addInitializer(names.fresh(`${base}_scales`), t.scales);
  const zp = t.zeroPoints ? g.addInitializer(names.fresh(`${base}_zero_points`), t.zeroPoints) : null;
  const node = op.node;
  const fused = op.bias ? undefined : findBiasAdd(node.output(0), op.N);
  const bias = op.bias ?? fused?.bias;
  node.opType = 'MatMulNBits';
  node.domain = 'com.microsoft';
  node.attributes.clear();
  node.setAttr('K', op.K);
  node.setAttr('N', op.N);
  node.setAttr('bits', q.spec.bits);
  node.setAttr('block_size', q.spec.blockSize);
  node.setAttr('accuracy_level', accuracyLevel);
  const inputs: (Value | null)[] = [op.input, B, scales, zp, null, bias ? addBias(model, graph, op, bias) : null];
  while (inputs[inputs.length - 1] === null) inputs.pop();
  node.setInputs(inputs);
  if (fused) absorbOutput(graph, node.output(0), fused.add.output(0));
  return { node, biasFolded: fused !== undefined };
}

/**
 * Rewrites the op into DequantizeLinear(block_size) -> MatMul (ai.onnx opset 21). Each MatMul gets
 * its own DequantizeLinear: ORT fuses the pair into MatMulNBits only when the DQ has one consumer.
 * Gemm becomes MatMul (+ Add for its bias).
 */
export function emitBlockedDq(model: Model, graph: Graph, op: LinearOp, q: BlockQuantized): { matmul: Node; helpers: Node[] } {
  const t = toBlockedDequantizeLinear(q);
  const g = op.weightValue.graph ?? graph;
  const base = op.weightValue.name;
  const names = model.names;
  const x = g.addInitializer(names.fresh(`${base}_q${q.spec.bits}`), t.x);
  const scale = g.addInitializer(names.fresh(`${base}_scale`), t.scale);
  const zp = t.zeroPoint ? g.addInitializer(names.fresh(`${base}_zero_point`), t.zeroPoint) : null;
  const node = op.node;
  const label = node.name || node.output(0).name;
  const dq = new Node('DequantizeLinear', zp ? [x, scale, zp] : [x, scale], [names.fresh(`${label}_weight`)], {
    name: names.fresh(`${label}_dequantize_weight`), attributes: { axis: 0, block_size: q.spec.blockSize },
  });
  graph.insertBefore(node, dq);
  if (node.opType === 'MatMul') {
    node.replaceInput(1, dq.output(0));
    return { matmul: node, helpers: [dq] };
  }
  const mm = new Node('MatMul', [op.input, dq.output(0)], [names.fresh(`${label}_matmul`)], { name: names.fresh(`${label}_matmul`) });
  const helpers = [dq];
  let result = mm.output(0);
  graph.insertBefore(node, mm);
  if (op.bias) {
    const add = new Node('Add', [result, addBias(model, graph, op, op.bias)], [names.fresh(`${label}_biased`)], { name: names.fresh(`${label}_bias`) });
    graph.insertBefore(node, add);
    helpers.push(add);
    result = add.output(0);
  }
  absorbOutput(graph, result, node.output(0));
  return { matmul: mm, helpers };
}
