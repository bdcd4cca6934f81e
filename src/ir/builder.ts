/**
 * Building graphs in code (passes, tests, fixtures):
 *
 *   const b = new GraphBuilder({ opset: 17 });
 *   const x = b.input('x', DataType.FLOAT, ['batch', 3, 32, 32]);
 *   const w = b.initializer('w', Tensor.float([8, 3, 3, 3], data));
 *   const y = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] });
 *   b.output(b.op('Relu', [y]));
 *   const model = b.build();
 */
import { Graph } from './graph.js';
import { Model } from './model.js';
import { Node } from './node.js';
import { Value } from './value.js';
import { DataType } from './data-type.js';
import { Tensor } from './tensor.js';
import { tensorType, type Dim, type TypeInfo } from './types.js';
import type { AttrInput, Attribute } from './attribute.js';

export interface OpOptions {
  name?: string;
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Output names (default: fresh names derived from the node name or op type). */
  outputNames?: string[];
}

export class GraphBuilder {
  readonly model: Model;
  readonly graph: Graph;

  constructor(options: { opset?: number; irVersion?: number; graphName?: string; opsets?: Record<string, number> } = {}) {
    this.graph = new Graph(options.graphName ?? 'main_graph');
    this.model = new Model(this.graph);
    this.model.irVersion = options.irVersion ?? 10;
    this.model.opsetImports = new Map([['', options.opset ?? 21], ...Object.entries(options.opsets ?? {})]);
  }

  /** A builder appending to an existing graph (a pass adding nodes, a subgraph body). */
  static on(graph: Graph): SubgraphBuilder {
    return new SubgraphBuilder(graph);
  }

  input(name: string, elemType: DataType, shape?: Dim[]): Value {
    return this.graph.addInput(new Value(this.model.names.fresh(name), tensorType(elemType, shape)));
  }

  initializer(name: string, tensor: Tensor): Value {
    return this.graph.addInitializer(this.model.names.fresh(name), tensor);
  }

  /** Convenience: a float32 initializer. */
  floats(name: string, dims: number[], data: ArrayLike<number>): Value {
    return this.initializer(name, Tensor.float(dims, data));
  }

  int64s(name: string, dims: number[], data: ArrayLike<number>): Value {
    return this.initializer(name, Tensor.int64(dims, data));
  }

  op(opType: string, inputs: (Value | null)[], attributes: Record<string, AttrInput> | Attribute[] = {}, options: OpOptions = {}): Value {
    return this.opMulti(opType, inputs, attributes, options)[0]!;
  }

  opMulti(opType: string, inputs: (Value | null)[], attributes: Record<string, AttrInput> | Attribute[] = {}, options: OpOptions = {}): Value[] {
    return addOp(this.graph, this.model.names.fresh.bind(this.model.names), opType, inputs, attributes, options);
  }

  output(value: Value, type?: TypeInfo): Value {
    if (type) value.type = type;
    this.graph.outputs.push(value);
    return value;
  }

  /** Sets an opset import (e.g. 'com.microsoft'). */
  opset(domain: string, version: number): this {
    this.model.opsetImports.set(domain, version);
    return this;
  }

  build(): Model {
    return this.model;
  }
}

/** Appends nodes to an existing graph, using its model's name authority. */
export class SubgraphBuilder {
  constructor(readonly graph: Graph) {}

  private fresh = (base: string): string => this.graph.nameAuthority()?.fresh(base) ?? base;

  input(name: string, elemType: DataType, shape?: Dim[]): Value {
    return this.graph.addInput(new Value(this.fresh(name), tensorType(elemType, shape)));
  }

  initializer(name: string, tensor: Tensor): Value {
    return this.graph.addInitializer(this.fresh(name), tensor);
  }

  op(opType: string, inputs: (Value | null)[], attributes: Record<string, AttrInput> | Attribute[] = {}, options: OpOptions = {}): Value {
    return addOp(this.graph, this.fresh, opType, inputs, attributes, options)[0]!;
  }

  opMulti(opType: string, inputs: (Value | null)[], attributes: Record<string, AttrInput> | Attribute[] = {}, options: OpOptions = {}): Value[] {
    return addOp(this.graph, this.fresh, opType, inputs, attributes, options);
  }

  output(value: Value): Value {
    this.graph.outputs.push(value);
    return value;
  }
}

function addOp(
  graph: Graph, fresh: (base: string) => string, opType: string, inputs: (Value | null)[],
  attributes: Record<string, AttrInput> | Attribute[], options: OpOptions,
): Value[] {
  const name = fresh(options.name ?? opType);
  const count = options.outputNames?.length ?? options.outputs ?? 1;
  const outs = Array.from({ length: count }, (_, i) => new Value(options.outputNames?.[i] ?? fresh(count === 1 ? `${name}_out` : `${name}_out${i}`)));
  const node = new Node(opType, inputs, outs, { name, domain: options.domain ?? '', attributes });
  graph.append(node);
  return outs;
}

/** A standalone subgraph (If branch, Loop body) whose nodes may reference outer values. */
export function subgraph(name: string, build: (b: SubgraphBuilder) => void, names?: { fresh(base: string): string }): Graph {
  const g = new Graph(name);
  const b = new SubgraphBuilder(g);
  if (names) (b as unknown as { fresh: (s: string) => string }).fresh = (s: string) => names.fresh(s);
  build(b);
  return g;
}

export { DataType, Tensor };
