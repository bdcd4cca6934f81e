/** What a pruning run hands back: the model, the plan it carried out, and what it did, layer by layer. */
import type { Model } from '../ir/model.js';
import type { PruneMethod, PruneScope } from './options.js';
import type { PrunePlan, SkippedLayer } from './plan.js';

export interface LayerResult {
  node: string;
  op: string;
  weight: string;
  params: number;
  /** Zeros in the weight before and after. */
  zerosBefore: number;
  zeros: number;
  sparsity: number;
  method: string;
  note?: string;
}

export interface ChannelGroupResult {
  id: number;
  members: string[];
  unit: 'channel' | 'head' | 'neuron';
  before: number;
  after: number;
  /** Consumers refitted by least squares after the cut. */
  reconstructed: string[];
}

export interface ChannelSummary {
  groups: ChannelGroupResult[];
  /** Groups the analysis could not prove safe to cut, with the reason. */
  blocked: { members: string[]; units: number; reason: string }[];
  /** Multiply-accumulates of the weighted layers per sample, before and after, when shapes are known. */
  macs?: { before: number; after: number };
}

/** One sparsity tried by a --max-drop search. */
export interface BudgetTrial {
  sparsity: number;
  /** Drop of the primary metric, in points (positive = worse). */
  drop: number;
  metric: string;
  withinBudget: boolean;
}

export interface PruneSummary {
  method: PruneMethod;
  scope: PruneScope;
  pattern?: string;
  /** The sparsity asked for, or found by the budget search. */
  sparsity: number;
  layers: LayerResult[];
  skipped: SkippedLayer[];
  /** Zeros over the weights of the pruned layers, and over every float weight of the model. */
  achieved: { prunedLayers: number; model: number };
  /** Float weight values (initializers) before and after, and how many of them are not zero. */
  params: { before: number; after: number; nonzeroBefore: number; nonzeroAfter: number };
  channels?: ChannelSummary;
  search?: BudgetTrial[];
  /** Where pruned zeros or shapes run faster (and where they do not). */
  hardware: string;
  notes: string[];
  warnings: string[];
}

export interface PruneResult {
  model: Model;
  plan: PrunePlan;
  summary: PruneSummary;
}
