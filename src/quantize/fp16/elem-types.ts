/**
 * Element types of every value in a model (all graphs), from declarations where the file has them
 * and from per-op rules elsewhere: FP16 conversion must know which edges carry float32. Values whose
 * type cannot be told are left out of the map.
 */
import type { Graph } from '../../ir/graph.js';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';
import { isTensorType } from '../../ir/types.js';
import { constantNodeTensor } from '../../ir/passes/constants-to-initializers.js';

const BOOL_OUT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
/** Ops whose second and later outputs are int64 indices. */
const INDICES_AFTER_FIRST = new Set(['TopK', 'MaxPool', 'Unique']);

export type ElemTypes = Map<Value, DataType>;

function declared(v: Value): DataType | undefined {
  if (v.constValue) return v.constValue.dataType;
  return isTensorType(v.type) && v.type.elemType !== DataType.UNDEFINED ? v.type.elemType : undefined;
}

function outputTypes(node: Node, types: ElemTypes): (DataType | undefined)[] {
  const input = (i: number) => {
    const v = node.input(i);
    return v ? types.get(v) : undefined;
  };
  const n = node.outputs.length;
  const all = (t: DataType | undefined) => Array<DataType | undefined>(n).fill(t);
  const dtype = node.getInt('dtype');
  // com.microsoft Q/DQ (16-bit and 4-bit below opset 21) type their outputs like the ai.onnx ones.
  if (node.domain === '' || node.domain === 'com.microsoft') {
    switch (node.opType) {
      case 'Cast': return all(node.getInt('to'));
      case 'CastLike': return all(input(1));
      case 'Constant': return all(constantNodeTensor(node)?.dataType ?? node.getTensor('value')?.dataType);
      case 'ConstantOfShape': return all(node.getTensor('value')?.dataType ?? DataType.FLOAT);
      case 'RandomNormal': case 'RandomUniform': return all(dtype ?? DataType.FLOAT);
      case 'RandomNormalLike': case 'RandomUniformLike': case 'EyeLike': return all(dtype ?? input(0));
      case 'Multinomial': return all(dtype ?? DataType.INT32);
      case 'Where': return all(input(1));
      case 'OneHot': return all(input(2));
      case 'QuantizeLinear': return all(input(2) ?? node.getInt('output_dtype') ?? DataType.UINT8);
      case 'DequantizeLinear': return all(input(1));
      case 'DynamicQuantizeLinear': return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
      case 'MatMulInteger': case 'ConvInteger': return all(DataType.INT32);
      case 'LayerNormalization': return [input(0), DataType.FLOAT, DataType.FLOAT];
      case 'Dropout': return [input(0), DataType.BOOL];
      default: break;
    }
  }
  if (node.domain === '') {
    if (BOOL_OUT.has(node.opType)) return all(DataType.BOOL);
    if (INT64_OUT.has(node.opType)) return all(DataType.INT64);
    if (INDICES_AFTER_FIRST.has(node.opType)) return [input(0), ...Array<DataType>(n - 1).fill(DataType.INT64)];
  }
  // Most ops produce the type of their (first typed) input: arithmetic, data movement, MatMul, LSTM,
  // and the com.microsoft float ops (DynamicQuantizeMatMul, MatMulNBits) whose input 0 is float.
  for (let i = 0; i < node.inputs.length; i++) {
    const t = input(i);
    if (t !== undefined) return all(t);
  }
  return all(undefined);
}

function visit(g: Graph, types: ElemTypes): void {
  for (const v of g.inputs) { const t = declared(v); if (t !== undefined) types.set(v, t); }
  for (const v of g.initializers.values()) types.set(v, v.constValue!.dataType);
  for (const node of g.nodes) {
    const subgraphs = node.subgraphs();
    for (const sg of subgraphs) visit(sg, types);
    let inferred: (DataType | undefined)[];
    if (subgraphs.length) {
      // If: outputs are the branch outputs; Loop/Scan: body outputs after the condition (Loop) come first.
      const body = subgraphs[0]!;
      const offset = node.opType === 'Loop' ? 1 : 0;
      inferred = node.outputs.map((_, i) => { const o = body.outputs[i + offset]; return o ? types.get(o) : undefined; });
    } else {
      inferred = outputTypes(node, types);
    }
    node.outputs.forEach((o, i) => {
      const t = declared(o) ?? inferred[i];
      if (t !== undefined) types.set(o, t);
    });
  }
}

/** Element types of the values of every graph of `model` (the graphs must be topologically sorted). */
export function inferElemTypes(model: Model): ElemTypes {
  const types: ElemTypes = new Map();
  visit(model.graph, types);
  return types;
}

export function isFloatType(t: DataType | undefined): boolean {
  return t === DataType.FLOAT || t === DataType.FLOAT16;
}
