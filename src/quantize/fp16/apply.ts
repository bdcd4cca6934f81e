/**
 * Carries out an FP16 plan: float outputs of converted nodes become float16, float32 constants they
 * read are stored as float16, and a Cast is inserted wherever a value crosses between a float16 and
 * a float32 consumer. Graph outputs (and subgraph outputs, which control-flow nodes declare float32)
 * keep float32 through a final Cast that takes over the output's name.
 */
import type { Graph } from '../../ir/graph.js';
import type { Model } from '../../ir/model.js';
import { Node } from '../../ir/node.js';
import { Value } from '../../ir/value.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';
import { AttrType } from '../../ir/attribute.js';
import { isTensorType, tensorType } from '../../ir/types.js';
import { opSupport } from '../../ops/op-support.js';
import type { ElemTypes } from './plan.js';
import type { Fp16Plan } from './plan.js';

export interface Fp16Changes {
  /** Cast nodes inserted at float32/float16 boundaries. */
  casts: Node[];
  /** float32 constants now stored as float16. */
  constants: number;
}

function setElemType(v: Value, t: DataType): void {
  if (isTensorType(v.type)) v.type = { ...v.type, elemType: t };
}

function toHalf(t: Tensor, name: string): Tensor {
  return Tensor.fromFloat32(DataType.FLOAT16, [...t.dims], t.toFloat32(), name);
}

export function applyFp16(model: Model, plan: Fp16Plan, types: ElemTypes, keepIoTypes: boolean): Fp16Changes {
  const names = model.names;
  const changes: Fp16Changes = { casts: [], constants: 0 };
  const half = new Set<Value>();
  const isFloat32 = (v: Value) => types.get(v) === DataType.FLOAT;

  // 1. Outputs of converted nodes: float32 -> float16 (Cast to float becomes Cast to float16).
  for (const node of plan.convert) {
    if (node.opType === 'Cast' && node.getInt('to') === DataType.FLOAT) node.setAttr('to', DataType.FLOAT16);
    const value = node.getTensor('value');
    if ((node.opType === 'ConstantOfShape' || node.opType === 'Constant') && value?.dataType === DataType.FLOAT) {
      node.attributes.set('value', { name: 'value', type: AttrType.TENSOR, value: toHalf(value, value.name) });
    }
    for (const o of node.outputs) {
      if (!isFloat32(o)) continue;
      half.add(o);
      setElemType(o, DataType.FLOAT16);
    }
  }
  if (!keepIoTypes) {
    for (const v of model.graph.inputs) if (isFloat32(v) && !v.constValue) { half.add(v); setElemType(v, DataType.FLOAT16); }
  }

  // 2. Every float input gets the precision its consumer computes in.
  const casts = new Map<Value, Map<DataType, Value>>();
  const halfConstants = new Map<Value, Value>();
  const castOf = (v: Value, to: DataType): Value => {
    let byType = casts.get(v);
    if (!byType) casts.set(v, (byType = new Map()));
    const hit = byType.get(to);
    if (hit) return hit;
    const out = new Value(names.fresh(`${v.name}_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`), tensorType(to, isTensorType(v.type) ? v.type.shape : undefined));
    const cast = new Node('Cast', [v], [out], { name: names.fresh(`${v.name}_cast`), attributes: { to } });
    const g = (v.producer?.graph ?? v.graph)!;
    if (v.producer) g.insertAfter(v.producer, cast);
    else if (g.nodes.length) g.insertBefore(g.nodes[0]!, cast);
    else g.append(cast);
    changes.casts.push(cast);
    inserted.add(cast);
    byType.set(to, out);
    return out;
  };
  const halfConstant = (v: Value): Value => {
    let c = halfConstants.get(v);
    if (!c) {
      const g = v.graph!;
      c = g.addInitializer(names.fresh(`${v.name}_fp16`), toHalf(v.constValue!, ''));
      halfConstants.set(v, c);
      changes.constants++;
    }
    return c;
  };
  const inserted = new Set<Node>();
  for (const graph of model.graph.allGraphs()) {
    for (const node of [...graph.nodes]) {
      if (inserted.has(node)) continue;
      const converted = plan.convert.has(node);
      // Cast reads any type: no Cast in front of a Cast.
      if (converted && node.opType === 'Cast') continue;
      const keepFloat32 = opSupport(node.opType, node.domain)?.float32Inputs ?? [];
      node.inputs.forEach((v, i) => {
        if (!v) return;
        const isHalf = half.has(v);
        if (!isHalf && !isFloat32(v)) return;
        const want = converted && !keepFloat32.includes(i) ? DataType.FLOAT16 : DataType.FLOAT;
        if ((want === DataType.FLOAT16) === isHalf) return;
        if (want === DataType.FLOAT16 && v.isInitializer) node.replaceInput(i, halfConstant(v));
        else node.replaceInput(i, castOf(v, want));
      });
    }
  }

  // 3. Graph outputs stay float32 (subgraph outputs always: control-flow nodes declare them float32).
  for (const graph of model.graph.allGraphs()) {
    if (graph === model.graph && !keepIoTypes) continue;
    const done = new Map<Value, Value>();
    graph.outputs.forEach((v, i) => {
      if (!half.has(v)) return;
      const again = done.get(v);
      if (again) graph.outputs[i] = again;
      else done.set(v, restoreFloat32Output(model, graph, v, i, changes));
    });
  }
  return changes;
}

/** Renames the float16 value and adds a Cast that produces the original (float32) output name. */
function restoreFloat32Output(model: Model, graph: Graph, v: Value, slot: number, changes: Fp16Changes): Value {
  const name = v.name;
  v.name = model.names.fresh(`${name}_fp16`);
  const out = new Value(name, tensorType(DataType.FLOAT, isTensorType(v.type) ? v.type.shape : undefined));
  const cast = new Node('Cast', [v], [out], { name: model.names.fresh(`${name}_to_fp32`), attributes: { to: DataType.FLOAT } });
  // A subgraph may output a value of an enclosing graph: the Cast then goes at the end of the subgraph.
  if (v.producer?.graph === graph) graph.insertAfter(v.producer, cast);
  else graph.append(cast);
  graph.outputs[slot] = out;
  changes.casts.push(cast);
  return out;
}
