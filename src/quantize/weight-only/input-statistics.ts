/**
 * The calibration pass GPTQ and AWQ share: for every quantized MatMul input of the main graph
 * (inputs read by several MatMuls, such as Q/K/V's, once), X^T X computed inside ONNX Runtime (the
 * 'gram' statistic: as a loop in JS, X^T X of a 2-layer decoder at TinyLlama widths took minutes),
 * plus whatever else the algorithm asks for per input, in one pass over the data. Inputs the
 * collector cannot observe (inside subgraphs) get nothing: those MatMuls fall back to RTN.
 *
 * Models with more than 1 GiB of weights are calibrated layer by layer (calibrate/layered): one
 * part of the model at a time, each part's statistics handed to the algorithm before the next part
 * runs. A 22-layer 1.1B decoder keeps about 350 MB of X^T X per layer: 7.7 GB at once otherwise.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { collectStatistics } from '../../calibrate/stats/collector.js';
import type { Statistics } from '../../calibrate/stats/statistics.js';
import type { StatRequest } from '../../calibrate/types.js';
import { planParts } from '../../calibrate/layered/plan-parts.js';
import { collectByParts } from '../../calibrate/layered/collect-by-parts.js';
import { storedTensorBytes } from '../../onnx/tensors.js';
import { DataError } from '../../errors.js';
import type { LinearOp } from '../linear.js';
import type { ResolvedWeightOnlyOptions } from './options.js';

export interface InputStatistics {
  stats: Statistics;
  /** X^T X of `op`'s input, or undefined when it was not observed. */
  gram(op: LinearOp): Float64Array | undefined;
  /** The rows (samples x positions) X^T X of `op`'s input was summed over, when known. */
  rows(op: LinearOp): number | undefined;
}

/** Models with more weight bytes than this are calibrated layer by layer by default. */
export const WHOLE_MODEL_BYTES = 2 ** 30;
/** Default weight bytes per part: about one decoder layer at 1B scale (176 MB in float32). */
export const DEFAULT_PART_BYTES = 128 * 2 ** 20;

/** Ops calibrated together, with their statistics (absent for ops no statistics can reach). */
export interface StatisticsGroup {
  ops: LinearOp[];
  stats?: InputStatistics;
  /** Part i of n, when the model was calibrated layer by layer. */
  part?: { index: number; count: number; handedOnBytes: number };
}

type Extra = (tensor: string) => StatRequest[];

function requestsFor(ops: readonly LinearOp[], extra: Extra): { features: Map<string, number>; requests: StatRequest[] } {
  const features = new Map<string, number>();
  for (const op of ops) features.set(op.input.name, op.K);
  return { features, requests: [...features].flatMap(([tensor, k]): StatRequest[] => [{ tensor, kind: 'gram', features: k }, ...extra(tensor)]) };
}

function wrap(stats: Statistics, features: Map<string, number>, algorithm: string): InputStatistics {
  const statOf = (op: LinearOp) => {
    const k = features.get(op.input.name);
    return k === undefined ? undefined : stats.get({ tensor: op.input.name, kind: 'gram', features: k });
  };
  return {
    stats,
    gram(op) {
      const s = statOf(op);
      if (!s) return undefined;
      if (s.size !== op.K) throw new DataError(`${algorithm}: input '${op.input.name}' of ${op.node.name} has ${s.size} features, but its weight has K=${op.K}`);
      return s.gram;
    },
    rows: (op) => statOf(op)?.rows,
  };
}

function collectOptions(o: ResolvedWeightOnlyOptions) {
  return {
    ...(o.engine ? { engine: o.engine } : {}),
    data: { limit: o.calibSize },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
}

/** The whole model in one run: statistics of every main-graph op's input. */
export async function collectInputStatistics(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions, algorithm: string, extra: Extra = () => []): Promise<InputStatistics | undefined> {
  const { features, requests } = requestsFor(ops.filter((op) => op.node.graph === model.graph), extra);
  if (!features.size) return undefined;
  return wrap(await collectStatistics(model, o.calibration!, requests, collectOptions(o)), features, algorithm);
}

/** Weight bytes per part for this model, or 0 to run it whole. */
function partBytesFor(model: Model, o: ResolvedWeightOnlyOptions): number {
  if (o.partBytes >= 0) return o.partBytes;
  return storedTensorBytes(model) > WHOLE_MODEL_BYTES ? DEFAULT_PART_BYTES : 0;
}

/**
 * The ops in groups with their statistics: one group for a model run whole, one per part of a
 * model calibrated layer by layer (consume each group before asking for the next: its statistics
 * are then released), then the ops no statistics reach (inside subgraphs).
 */
export async function* statisticsByPart(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions, algorithm: string, extra: Extra = () => []): AsyncGenerator<StatisticsGroup> {
  const main = ops.filter((op) => op.node.graph === model.graph);
  const unreachable = ops.filter((op) => op.node.graph !== model.graph);
  const bytes = partBytesFor(model, o);
  const parts = bytes > 0 && main.length ? planParts(model.graph, bytes) : [];
  if (parts.length <= 1) {
    if (main.length) yield { ops: main, stats: (await collectInputStatistics(model, main, o, algorithm, extra))! };
  } else {
    const partOf = new Map<Node, number>();
    parts.forEach((p, i) => { for (const n of p.nodes) partOf.set(n, i); });
    // Ops sharing an input (Q/K/V, gate/up) are calibrated and quantized together, in the part of
    // the last of them (which reads that input): AWQ scales them as one group.
    const inputPart = new Map<string, number>();
    for (const op of main) inputPart.set(op.input.name, Math.max(inputPart.get(op.input.name) ?? 0, partOf.get(op.node)!));
    const byPart = parts.map((_, i) => main.filter((op) => inputPart.get(op.input.name) === i));
    const collected = collectByParts(model, parts, o.calibration!, (part) => requestsFor(byPart[parts.indexOf(part)]!, extra).requests, collectOptions(o));
    for await (const r of collected) {
      const group = byPart[r.index]!;
      const part = { index: r.index, count: parts.length, handedOnBytes: r.handedOnBytes };
      yield { ops: group, stats: wrap(r.stats, requestsFor(group, extra).features, algorithm), part };
    }
  }
  if (unreachable.length) yield { ops: unreachable };
}
