/** The channel rule of each op, from the op table's channel flow (src/ops/channel-flow.ts). */
import type { Node } from '../../../ir/node.js';
import { channelFlow, type ChannelFlow } from '../../../ops/channel-flow.js';
import type { ChannelRule } from './context.js';
import { axisOp, channelNorm, elementwise, layerNorm, opaque, pad, pool, reduce, resize, shapeReader } from './pointwise.js';
import { concat, flatten, gather, reshape, slice, split, squeeze, transpose, unsqueeze } from './layout.js';
import { weighted } from './weighted.js';

const BY_FLOW: Record<Exclude<ChannelFlow, 'weighted'>, ChannelRule> = {
  unary: elementwise,
  elementwise,
  'channel-norm': channelNorm,
  'layer-norm': layerNorm,
  pool,
  resize,
  pad,
  transpose,
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  concat,
  split,
  slice,
  gather,
  reduce,
  'axis-op': axisOp,
  shape: shapeReader,
};

export function ruleFor(node: Node): ChannelRule {
  if (node.subgraphs().length) return opaque;
  const flow = channelFlow(node.opType, node.domain);
  if (!flow) return opaque;
  return flow === 'weighted' ? weighted[node.opType]! : BY_FLOW[flow];
}

export type { ChannelRule, AnalyzeContext, RewriteContext } from './context.js';
