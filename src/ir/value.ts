/**
 * A value (an SSA edge): produced by at most one node output, or a graph input, or an initializer;
 * it knows all its uses. Rewiring happens through Node.replaceInput and Value.replaceAllUsesWith,
 * never by renaming strings.
 */
import type { Node } from './node.js';
import type { Graph } from './graph.js';
import type { Tensor, StringMap } from './tensor.js';
import type { SparseTensor } from './attribute.js';
import { isTensorType, type Dim, type TypeInfo } from './types.js';
import type { DataType } from './data-type.js';

export interface Use {
  node: Node;
  index: number;
}

export class Value {
  name: string;
  type?: TypeInfo;
  docString?: string;
  metadataProps?: StringMap;
  /** The initializer tensor when this value is a graph constant. */
  constValue?: Tensor;
  /** A sparse initializer (rare; kept so models round-trip). */
  sparseValue?: SparseTensor;

  /** Set by Node: the node whose output this is, and the output index. */
  producer: Node | null = null;
  producerIndex = -1;
  /** The graph this value is an input, initializer or (through its producer) a node output of. */
  graph: Graph | null = null;
  /** Set by the decoder/builder: the type was declared in the file's value_info. */
  private readonly _uses: Use[] = [];

  constructor(name: string, type?: TypeInfo) {
    this.name = name;
    this.type = type;
  }

  get uses(): readonly Use[] {
    return this._uses;
  }

  /** @internal used by Node to maintain the use lists. */
  _addUse(node: Node, index: number): void {
    this._uses.push({ node, index });
  }

  /** @internal */
  _removeUse(node: Node, index: number): void {
    const i = this._uses.findIndex((u) => u.node === node && u.index === index);
    if (i >= 0) this._uses.splice(i, 1);
  }

  /** Nodes that consume this value (each once, in use order). */
  consumers(): Node[] {
    return [...new Set(this._uses.map((u) => u.node))];
  }

  get isInitializer(): boolean {
    return this.constValue !== undefined && this.graph?.initializers.get(this.name) === this;
  }

  get isGraphInput(): boolean {
    return this.graph?.inputs.includes(this) ?? false;
  }

  /** True when any graph (this one or an enclosing graph) lists it as an output. */
  get isGraphOutput(): boolean {
    return this.graph?.outputs.includes(this) ?? false;
  }

  /** Constant data if this value is an initializer or the output of a Constant node. */
  get constant(): Tensor | undefined {
    if (this.constValue) return this.constValue;
    const p = this.producer;
    if (p && p.opType === 'Constant' && p.domain === '') {
      const a = p.attributes.get('value');
      if (a && a.type === 4) return a.value;
    }
    return undefined;
  }

  get elemType(): DataType | undefined {
    return isTensorType(this.type) ? this.type.elemType : undefined;
  }

  get shape(): Dim[] | undefined {
    return isTensorType(this.type) ? this.type.shape : undefined;
  }

  /** Rewires every use (and graph-output slot) of this value to `other`. Iterates over a snapshot. */
  replaceAllUsesWith(other: Value): void {
    if (other === this) return;
    for (const use of [...this._uses]) use.node.replaceInput(use.index, other);
    const g = this.graph;
    if (g) {
      for (let i = 0; i < g.outputs.length; i++) if (g.outputs[i] === this) g.outputs[i] = other;
    }
  }

  toString(): string {
    return `%${this.name}`;
  }
}
