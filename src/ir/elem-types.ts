/**
 * Element-type inference: which data type flows along every value of a graph. Shapes are not
 * needed for quantization decisions, only "is this a float tensor?", and exporters and ONNX
 * Runtime's optimizer often drop value_info for intermediate values. The rules cover the ops whose
 * output type is not their first input's type; everything else propagates input 0's type.
 */
import { DataType } from './data-type.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Value } from './value.js';
import { AttrType } from './attribute.js';
import { constantNodeTensor } from './passes/constants-to-initializers.js';

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

/** The element type of one output of a node, given the types already known. */
function outputType(node: Node, index: number, typeOf: (v: Value | null) => DataType | undefined): DataType | undefined {
  const op = node.domain === '' || node.domain === 'com.microsoft' ? node.opType : '';
  const attrType = (name: string) => node.getInt(name);
  switch (op) {
    case 'Constant': return constantNodeTensor(node)?.dataType;
    case 'Cast': return attrType('to');
    case 'CastLike': return typeOf(node.input(1));
    case 'QuantizeLinear': {
      const zp = node.input(2);
      return (zp ? typeOf(zp) : undefined) ?? attrType('output_dtype') ?? DataType.UINT8;
    }
    case 'DequantizeLinear': return typeOf(node.input(1)) ?? DataType.FLOAT;
    case 'DynamicQuantizeLinear': return index === 0 || index === 2 ? DataType.UINT8 : DataType.FLOAT;
    case 'ConstantOfShape': {
      const a = node.attr('value');
      return a?.type === AttrType.TENSOR ? a.value.dataType : DataType.FLOAT;
    }
    case 'EyeLike': case 'RandomNormalLike': case 'RandomUniformLike': return attrType('dtype') ?? typeOf(node.input(0));
    case 'RandomNormal': case 'RandomUniform': case 'Multinomial': return attrType('dtype') ?? DataType.FLOAT;
    case 'Where': return typeOf(node.input(1));
    case 'TopK': case 'MaxPool': case 'Unique': return index === 0 ? typeOf(node.input(0)) : DataType.INT64;
    case 'OneHot': return typeOf(node.input(2));
    case 'MatMulInteger': case 'ConvInteger': return DataType.INT32;
    // com.microsoft.GatherBlockQuantized: its output has the type of its scales (T1), not of its 4/8-bit data.
    case 'GatherBlockQuantized': return typeOf(node.input(2));
    // Mean and InvStdDev are float32 unless stash_type says otherwise (it only allows float32 today).
    case 'LayerNormalization': return index === 0 ? typeOf(node.input(0)) : DataType.FLOAT;
    case 'Dropout': return index === 0 ? typeOf(node.input(0)) : DataType.BOOL;
    case 'If': {
      for (const g of node.subgraphs()) {
        const t = typeOf(g.outputs[index] ?? null);
        if (t !== undefined) return t;
      }
      return undefined;
    }
    case 'Loop': return typeOf(node.subgraphs()[0]?.outputs[index + 1] ?? null);
    case 'Scan': return typeOf(node.subgraphs()[0]?.outputs[index] ?? null);
  }
  if (INT64_OUT.has(node.opType)) return DataType.INT64;
  if (BOOL_OUT.has(node.opType)) return DataType.BOOL;
  for (const v of node.inputs) {
    const t = typeOf(v);
    if (t !== undefined) return t;
  }
  return undefined;
}

/**
 * Element types of every value in `graph` (declared types win), including values of enclosing
 * graphs that `outer` already knows. Subgraph bodies are inferred on the way, so If/Loop outputs
 * resolve when their branches do.
 */
export function inferElemTypes(graph: Graph, outer: Map<Value, DataType> = new Map()): Map<Value, DataType> {
  const types = new Map(outer);
  const typeOf = (v: Value | null): DataType | undefined => {
    if (!v) return undefined;
    return types.get(v) ?? v.elemType ?? v.constValue?.dataType;
  };
  for (const v of graph.inputs) if (v.elemType !== undefined) types.set(v, v.elemType);
  for (const v of graph.initializers.values()) if (v.constValue) types.set(v, v.constValue.dataType);
  for (const node of graph.nodes) {
    for (const sg of node.subgraphs()) {
      const inner = inferElemTypes(sg, types);
      for (const [v, t] of inner) if (!types.has(v)) types.set(v, t);
    }
    node.outputs.forEach((o, i) => {
      const t = o.elemType ?? outputType(node, i, typeOf);
      if (t !== undefined) types.set(o, t);
    });
  }
  return types;
}
