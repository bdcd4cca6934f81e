/** A node: an op with ordered inputs (null for an omitted optional input) and owned outputs. */
import { Value } from './value.js';
import type { Graph } from './graph.js';
import { AttrType, decodeString, makeAttribute, type Attribute, type AttrInput } from './attribute.js';
import type { Tensor, StringMap } from './tensor.js';

export class Node {
  name: string;
  opType: string;
  /** '' is the default ONNX domain ('ai.onnx' is normalized to ''). */
  domain: string;
  overload = '';
  docString?: string;
  metadataProps?: StringMap;
  /** Protobuf fields slimnet does not interpret (IR 11 device configurations), kept for round-trip. */
  passthrough?: Record<string, unknown>;
  readonly attributes = new Map<string, Attribute>();
  graph: Graph | null = null;

  private readonly _inputs: (Value | null)[] = [];
  private readonly _outputs: Value[] = [];

  constructor(opType: string, inputs: (Value | null)[], outputs: (Value | string)[], options: { name?: string; domain?: string; attributes?: Record<string, AttrInput> | Attribute[] } = {}) {
    this.opType = opType;
    this.domain = options.domain === 'ai.onnx' ? '' : options.domain ?? '';
    this.name = options.name ?? '';
    for (const v of inputs) this.appendInput(v);
    for (const o of outputs) this.appendOutput(typeof o === 'string' ? new Value(o) : o);
    const attrs = options.attributes;
    if (Array.isArray(attrs)) for (const a of attrs) this.attributes.set(a.name, a);
    else if (attrs) for (const [k, v] of Object.entries(attrs)) this.attributes.set(k, makeAttribute(k, v));
  }

  get inputs(): readonly (Value | null)[] {
    return this._inputs;
  }

  get outputs(): readonly Value[] {
    return this._outputs;
  }

  input(i: number): Value | null {
    return this._inputs[i] ?? null;
  }

  output(i = 0): Value {
    const v = this._outputs[i];
    if (!v) throw new Error(`node ${this.label()} has no output ${i}`);
    return v;
  }

  appendInput(v: Value | null): void {
    this._inputs.push(v);
    v?._addUse(this, this._inputs.length - 1);
  }

  replaceInput(index: number, v: Value | null): void {
    if (index < 0 || index >= this._inputs.length) throw new Error(`node ${this.label()} has no input ${index}`);
    const old = this._inputs[index];
    if (old === v) return;
    old?._removeUse(this, index);
    this._inputs[index] = v;
    v?._addUse(this, index);
  }

  /** Replaces the whole input list. */
  setInputs(values: (Value | null)[]): void {
    this.detachInputs();
    for (const v of values) this.appendInput(v);
  }

  /** Drops trailing inputs from `count` on. */
  truncateInputs(count: number): void {
    while (this._inputs.length > count) {
      const v = this._inputs.pop();
      v?._removeUse(this, this._inputs.length);
    }
  }

  /** @internal removes this node from its inputs' use lists (used by Graph.remove). */
  detachInputs(): void {
    this._inputs.forEach((v, i) => v?._removeUse(this, i));
    this._inputs.length = 0;
  }

  appendOutput(v: Value): void {
    if (v.producer && v.producer !== this) throw new Error(`value ${v.name} is already produced by ${v.producer.label()}`);
    v.producer = this;
    v.producerIndex = this._outputs.length;
    v.graph = this.graph;
    this._outputs.push(v);
  }

  /** @internal called when the node joins a graph. */
  _setGraph(g: Graph | null): void {
    this.graph = g;
    for (const o of this._outputs) o.graph = g;
  }

  // --- attributes -----------------------------------------------------------------------------

  attr(name: string): Attribute | undefined {
    return this.attributes.get(name);
  }

  setAttr(name: string, value: AttrInput): void {
    this.attributes.set(name, makeAttribute(name, value));
  }

  getInt(name: string, def: number): number;
  getInt(name: string): number | undefined;
  getInt(name: string, def?: number): number | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.INT ? a.value : def;
  }

  getFloat(name: string, def: number): number;
  getFloat(name: string): number | undefined;
  getFloat(name: string, def?: number): number | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.FLOAT ? a.value : a?.type === AttrType.INT ? a.value : def;
  }

  getInts(name: string): number[] | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.INTS ? a.value : undefined;
  }

  getFloats(name: string): number[] | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.FLOATS ? a.value : undefined;
  }

  getString(name: string, def: string): string;
  getString(name: string): string | undefined;
  getString(name: string, def?: string): string | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.STRING ? decodeString(a.value) : def;
  }

  getTensor(name: string): Tensor | undefined {
    const a = this.attributes.get(name);
    return a?.type === AttrType.TENSOR ? a.value : undefined;
  }

  /** Subgraphs held in GRAPH / GRAPHS attributes (If branches, Loop/Scan bodies). */
  subgraphs(): Graph[] {
    const out: Graph[] = [];
    for (const a of this.attributes.values()) {
      if (a.type === AttrType.GRAPH) out.push(a.value);
      else if (a.type === AttrType.GRAPHS) out.push(...a.value);
    }
    return out;
  }

  /** "name (OpType)" for messages. */
  label(): string {
    const op = this.domain ? `${this.domain}.${this.opType}` : this.opType;
    return this.name ? `'${this.name}' (${op})` : `(${op} -> ${this._outputs.map((o) => o.name).join(',')})`;
  }

  toString(): string {
    return this.label();
  }
}
