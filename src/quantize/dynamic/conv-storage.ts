/**
 * Convolutions in dynamic mode: their weights are stored in int8 (per output channel) and decoded by
 * Cast -> Mul, which ONNX Runtime folds back into a float initializer when it loads the model, so
 * the convolutions compute in float exactly as fast as before while the file shrinks about 4x (2x
 * against float16-stored weights). The int8 form ONNX Runtime's dynamic quantizer writes,
 * DynamicQuantizeLinear + ConvInteger, is not used: it ran 0.16x-0.4x the speed of float Conv on
 * the ResNet fixtures here (ORT 1.30, fixtures/requantize), and needs data for nothing either way.
 * This is the 'storage' form static mode writes for weights it keeps in float (plan-stored.ts).
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { planStored } from '../static/plan-stored.js';
import { applyStored } from '../static/apply-stored.js';
import { QdqWriter, Resolver } from '../static/apply-qdq.js';
import { nameNodes } from '../static/preprocess.js';

export const STORED_CONV_DETAIL = 'computes in float (ConvInteger is slower than float Conv on CPU); its weights are stored in int8, decoded to float32 when ONNX Runtime loads the model';

export interface StoredConvs {
  /** The convolutions whose weights are now int8. */
  convs: Node[];
  /** The Cast and Mul nodes that decode them (folded away by ONNX Runtime at load). */
  decoders: Node[];
}

/** Stores the float weights of `nodes` in int8. */
export function storeConvWeights(model: Model, nodes: Set<Node>, perChannel: boolean): StoredConvs {
  if (nodes.size === 0) return { convs: [], decoders: [] };
  nameNodes(model); // the stored-constant plan refers to nodes by name
  const stored = planStored({ model, floatNodes: nodes, userKept: () => false, constants: false, perChannel, ranges: new Map() });
  const users = new Set(stored.flatMap((c) => c.uses.map((u) => u.node)));
  const before = new Set(model.graph.allNodes());
  applyStored(stored, new Resolver(model.graph, model.label()), new QdqWriter(model, ''));
  return { convs: [...nodes].filter((n) => users.has(n.name)), decoders: [...model.graph.allNodes()].filter((n) => !before.has(n)) };
}
