/**
 * The dependency analysis: walks the main graph in topological order and lets each op's channel
 * rule track, join and block channel ids (channel-graph.ts). Graph outputs, values read inside
 * subgraphs (If/Loop bodies) and nodes the user excluded are blocked: their shapes are the model's
 * interface, invisible to the rules, or off limits.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { nodeReads, sortGraph } from '../../ir/passes/topological-sort.js';
import { excludeMatch } from '../../quantize/static/options.js';
import { ChannelGraph } from './channel-graph.js';
import type { ShapeMap } from './shapes.js';
import { ruleFor, type AnalyzeContext } from './rules/index.js';
import { label } from './rules/context.js';

export interface ChannelAnalysis {
  model: Model;
  cg: ChannelGraph;
  shapes: ShapeMap;
  opset: number;
}

export function analyzeChannels(model: Model, shapes: ShapeMap, exclude: readonly string[]): ChannelAnalysis {
  const g = model.graph;
  sortGraph(g);
  const cg = new ChannelGraph();
  const opset = model.opset('') ?? 21;
  const a: AnalyzeContext = { cg, shapes, opset };
  const excluded = (n: Node) => exclude.find((p) => excludeMatch(p, n));
  for (const node of g.nodes) {
    const pattern = excluded(node);
    if (pattern !== undefined) {
      for (const v of node.inputs) if (v) cg.blockValue(v, `${label(node)} is excluded by --exclude ${pattern}`);
    }
    if (node.subgraphs().length) {
      for (const v of nodeReads(node)) cg.blockValue(v, `${label(node)} reads it inside a subgraph`);
      continue;
    }
    ruleFor(node).analyze(node, a);
    if (pattern !== undefined) for (const o of node.outputs) cg.blockValue(o, `${label(node)} is excluded by --exclude ${pattern}`);
  }
  for (const v of g.outputs) cg.blockValue(v, `'${v.name}' is a graph output: its shape is part of the model's interface`);
  return { model, cg, shapes, opset };
}
