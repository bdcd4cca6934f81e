/** A graph: ordered nodes, inputs, outputs, initializers. Subgraphs are Graphs owned by a node attribute. */
import { Value } from './value.js';
import type { Node } from './node.js';
import type { Tensor, StringMap } from './tensor.js';
import type { NameAuthority } from './names.js';

export interface QuantAnnotation {
  tensorName: string;
  params: StringMap;
}

export class Graph {
  name: string;
  docString?: string;
  metadataProps?: StringMap;
  inputs: Value[] = [];
  outputs: Value[] = [];
  readonly initializers = new Map<string, Value>();
  /** Sparse initializers (values whose `sparseValue` is set), kept for round-trip. */
  sparseInitializers: Value[] = [];
  /** Kept for round-trip: tensor-name -> quantization parameter tensor names. */
  quantizationAnnotation: QuantAnnotation[] = [];
  /** The node that owns this graph as an attribute (null for the main graph). */
  parent: Node | null = null;
  /** The name authority of the model this graph belongs to (set on the main graph by Model). */
  names: NameAuthority | null = null;

  private readonly _nodes: Node[] = [];

  constructor(name = 'main_graph') {
    this.name = name;
  }

  get nodes(): readonly Node[] {
    return this._nodes;
  }

  /** The main graph this graph is nested in (itself for the main graph). */
  root(): Graph {
    let g: Graph = this;
    while (g.parent?.graph) g = g.parent.graph;
    return g;
  }

  nameAuthority(): NameAuthority | null {
    return this.root().names;
  }

  private adopt(node: Node): void {
    if (node.graph && node.graph !== this) throw new Error(`node ${node.label()} already belongs to graph ${node.graph.name}`);
    node._setGraph(this);
    const names = this.nameAuthority();
    if (names) {
      if (node.name) names.register(node.name);
      for (const o of node.outputs) if (o.name) names.register(o.name);
    }
    for (const sg of node.subgraphs()) sg.parent = node;
  }

  append(...nodes: Node[]): void {
    for (const n of nodes) {
      this.adopt(n);
      this._nodes.push(n);
    }
  }

  insertBefore(ref: Node, ...nodes: Node[]): void {
    const i = this.indexOf(ref);
    for (const n of nodes) this.adopt(n);
    this._nodes.splice(i, 0, ...nodes);
  }

  insertAfter(ref: Node, ...nodes: Node[]): void {
    const i = this.indexOf(ref);
    for (const n of nodes) this.adopt(n);
    this._nodes.splice(i + 1, 0, ...nodes);
  }

  private indexOf(node: Node): number {
    const i = this._nodes.indexOf(node);
    if (i < 0) throw new Error(`node ${node.label()} is not in graph ${this.name}`);
    return i;
  }

  /**
   * Removes a node. Unless `force`, refuses when an output is still used or is a graph output,
   * naming the user, so a rewrite cannot leave a dangling edge.
   */
  remove(node: Node, options: { force?: boolean } = {}): void {
    const i = this.indexOf(node);
    if (!options.force) {
      for (const o of node.outputs) {
        if (o.uses.length > 0) throw new Error(`cannot remove ${node.label()}: its output ${o.name} is used by ${o.uses[0]!.node.label()}`);
        if (this.outputs.includes(o)) throw new Error(`cannot remove ${node.label()}: its output ${o.name} is a graph output`);
      }
    }
    node.detachInputs();
    this._nodes.splice(i, 1);
    node._setGraph(null);
  }

  /** Replaces the node list wholesale (used by topological sort; every node must already be here). */
  reorder(nodes: Node[]): void {
    if (nodes.length !== this._nodes.length) throw new Error('reorder: node count differs');
    this._nodes.splice(0, this._nodes.length, ...nodes);
  }

  addInput(value: Value): Value {
    value.graph = this;
    this.inputs.push(value);
    this.nameAuthority()?.register(value.name);
    return value;
  }

  /** Adds an initializer (a named constant). */
  addInitializer(nameOrValue: string | Value, tensor?: Tensor): Value {
    const v = typeof nameOrValue === 'string' ? new Value(nameOrValue) : nameOrValue;
    if (tensor) v.constValue = tensor;
    if (!v.constValue) throw new Error(`initializer ${v.name} has no tensor`);
    if (this.initializers.has(v.name) && this.initializers.get(v.name) !== v) throw new Error(`initializer ${v.name} already exists in graph ${this.name}`);
    v.constValue.name = v.name;
    v.graph = this;
    this.initializers.set(v.name, v);
    this.nameAuthority()?.register(v.name);
    return v;
  }

  /** Removes an initializer that nothing uses any more. */
  removeInitializer(v: Value, options: { force?: boolean } = {}): void {
    if (!options.force && v.uses.length > 0) throw new Error(`cannot remove initializer ${v.name}: used by ${v.uses[0]!.node.label()}`);
    this.initializers.delete(v.name);
    const i = this.inputs.indexOf(v);
    if (i >= 0) this.inputs.splice(i, 1);
  }

  /** Every value defined in this graph: inputs, initializers, node outputs (not subgraph values). */
  *values(): Generator<Value> {
    const seen = new Set<Value>();
    for (const v of this.inputs) if (!seen.has(v)) { seen.add(v); yield v; }
    for (const v of this.initializers.values()) if (!seen.has(v)) { seen.add(v); yield v; }
    for (const n of this._nodes) for (const o of n.outputs) if (o.name && !seen.has(o)) { seen.add(o); yield o; }
  }

  /** Looks a value up by name in this graph (O(n); build a map for repeated look-ups). */
  findValue(name: string): Value | undefined {
    for (const v of this.values()) if (v.name === name) return v;
    return undefined;
  }

  /** All nodes of this graph and, depth first, of its subgraphs. */
  *allNodes(): Generator<Node> {
    for (const n of this._nodes) {
      yield n;
      for (const sg of n.subgraphs()) yield* sg.allNodes();
    }
  }

  /** This graph and every nested subgraph. */
  *allGraphs(): Generator<Graph> {
    yield this;
    for (const n of this._nodes) for (const sg of n.subgraphs()) yield* sg.allGraphs();
  }

  toString(): string {
    return `Graph(${this.name}: ${this._nodes.length} nodes)`;
  }
}
