/** A model: the main graph plus opsets, metadata, functions and what slimnet keeps for round-trip. */
import { Graph } from './graph.js';
import { NameAuthority } from './names.js';
import type { Attribute } from './attribute.js';
import type { StringMap } from './tensor.js';

/** A FunctionProto: a named op defined by a body graph whose inputs/outputs are its formal parameters. */
export interface IrFunction {
  domain: string;
  name: string;
  overload: string;
  body: Graph;
  /** Names of attributes without defaults. */
  attributes: string[];
  /** Attributes with default values. */
  attributeProtos: Attribute[];
  opsetImports: Map<string, number>;
  docString?: string;
  metadataProps?: StringMap;
}

export class Model {
  irVersion = 10;
  /** domain ('' = ai.onnx) -> opset version, in file order. */
  opsetImports = new Map<string, number>([['', 21]]);
  producerName = 'slimnet';
  producerVersion = '';
  domain = '';
  modelVersion?: number;
  docString?: string;
  metadataProps: StringMap = [];
  functions: IrFunction[] = [];
  /** Protobuf fields slimnet carries without interpreting them (training_info, configuration). */
  passthrough: Record<string, unknown> = {};
  /** Directory the model was loaded from, where its external data lives. */
  baseDir?: string;
  /** Path the model was loaded from (for messages). */
  sourcePath?: string;

  readonly names = new NameAuthority();
  private _graph!: Graph;

  constructor(graph: Graph = new Graph()) {
    this.graph = graph;
  }

  get graph(): Graph {
    return this._graph;
  }

  set graph(g: Graph) {
    this._graph = g;
    g.names = this.names;
    this.registerNames(g);
  }

  /** Re-reads every name in the model into the name authority (after bulk edits that bypass Graph). */
  registerNames(g: Graph = this._graph): void {
    for (const sub of g.allGraphs()) {
      for (const v of sub.inputs) this.names.register(v.name);
      for (const v of sub.initializers.values()) this.names.register(v.name);
      for (const n of sub.nodes) {
        this.names.register(n.name);
        for (const o of n.outputs) this.names.register(o.name);
      }
    }
  }

  /** Opset version of a domain ('' or 'ai.onnx' = the default domain), or undefined if not imported. */
  opset(domain = ''): number | undefined {
    return this.opsetImports.get(domain === 'ai.onnx' ? '' : domain);
  }

  /** Display name of the model for messages. */
  label(): string {
    return this.sourcePath ?? this._graph.name;
  }
}
