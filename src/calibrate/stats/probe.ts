/**
 * The probe: a copy of the model that hands back what the reducers need and nothing more.
 * - extremes: ReduceMin/ReduceMax of every observed tensor, computed by ONNX Runtime's vectorized
 *   kernels and packed into ONE output, so min/max calibration never copies an activation out of
 *   the runtime and pays the per-output cost of the Node binding once, not twice per tensor;
 * - the tensors themselves as outputs, fetched on every batch for per-channel statistics and
 *   X^T X, or on a subset of batches spread over the run for histograms (the caller picks per run
 *   what to fetch; an output not fetched is never copied out of the runtime). Copying whole
 *   tensors is a memcpy; strided slices inside the runtime cost more than they save;
 * - reductions a reducer builds into the probe (Gram matrices of layer inputs, gram.ts), whose
 *   fixed-size results are fetched instead of the tensors they reduce.
 * The caller's model is not modified (the copy shares weights, never mutates them).
 */
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import { cloneModel } from '../../ir/clone.js';
import { GraphBuilder, type SubgraphBuilder } from '../../ir/builder.js';
import { DataType } from '../../ir/data-type.js';
import { Tensor } from '../../ir/tensor.js';

export interface ProbeRequest {
  name: string;
  /** ORT element type of the tensor ('float32', 'float16', 'float64'). */
  type: string;
  /** Rank, when known (tensors of one rank share the ops that pack their extremes). */
  rank?: number;
  /** Non-negative by construction (a Relu output): only its max is computed, its min is taken as 0. */
  nonNegative?: boolean;
  extremes: boolean;
  /** Fetched whole, but only on some batches (`every`-th): a histogram's sample. */
  sample: boolean;
  every?: number;
  /** Fetched whole on every batch (per-channel statistics, X^T X). */
  full: boolean;
  /** A reduction of tensor `source` computed by nodes `build` adds to the probe (output `name`), fetched on every batch. */
  derived?: { source: string; build: (b: SubgraphBuilder, x: Value, name: string) => Value };
}

export interface Probe {
  model: Model;
  /** Output: the maxima of `maxNames` in order, then the minima of `minNames` (a subset: non-negative tensors have no min). */
  extremesOutput?: string;
  maxNames: string[];
  minNames: string[];
  /** Outputs fetched on some batches only (histogram samples), and on every batch. Graph inputs are read from the feeds instead. */
  sampled: string[];
  full: string[];
}

function asFloat(b: SubgraphBuilder, v: Value, type: string): Value {
  return type === 'float32' ? v : b.op('Cast', [v], { to: DataType.FLOAT });
}

export function buildProbe(model: Model, requests: readonly ProbeRequest[]): Probe {
  const copy = cloneModel(model);
  copy.sourcePath = model.sourcePath;
  copy.baseDir = model.baseDir;
  const g = copy.graph;
  const b = GraphBuilder.on(g);
  const byName = new Map<string, Value>();
  for (const v of g.inputs) byName.set(v.name, v);
  for (const n of g.nodes) for (const o of n.outputs) byName.set(o.name, o);
  const value = (name: string) => {
    const v = byName.get(name);
    if (!v) throw new Error(`probe: no tensor '${name}' in the main graph`);
    return v;
  };
  const probe: Probe = { model: copy, maxNames: [], minNames: [], sampled: [], full: [] };
  // Extremes: ReduceMax/ReduceMin with keepdims=1 give [1, ..., 1] of the tensor's rank; those of
  // one rank are concatenated (one op per rank, not one Unsqueeze per tensor: each op costs
  // microseconds of dispatch in ONNX Runtime), then flattened and concatenated once more.
  // Two cheaper paths: the max of a 4-D activation goes through GlobalMaxPool, which ONNX Runtime
  // runs on its blocked NCHWc layout (ReduceMax would first convert the whole tensor back to NCHW);
  // and tensors non-negative by construction (Relu, Sigmoid, ... outputs) skip their min, which a
  // range always replaces by 0 anyway.
  const flat1 = b.initializer('slimnet_flat', Tensor.int64([1], [-1]));
  const maxGroups = new Map<number, { values: Value[]; names: string[] }>();
  const minGroups = new Map<number, { values: Value[]; names: string[] }>();
  const add = (groups: typeof maxGroups, rank: number, v: Value, name: string) => {
    const group = groups.get(rank) ?? { values: [], names: [] };
    group.values.push(v);
    group.names.push(name);
    groups.set(rank, group);
  };
  for (const r of requests.filter((x) => x.extremes && !x.derived)) {
    const v = value(r.name);
    const rank = r.rank ?? -1;
    // Unknown rank or a scalar: flatten first so the group's shapes agree.
    const input = rank < 1 ? b.op('Reshape', [v, flat1], {}, { name: `${r.name}__slimnet_flat1` }) : v;
    const key = rank < 1 ? 1 : rank;
    const reduce = (op: string, x: Value) => asFloat(b, b.op(op, [x], { keepdims: 1 }, { name: `${r.name}__slimnet_${op}` }), r.type);
    add(maxGroups, key, reduce('ReduceMax', rank === 4 ? b.op('GlobalMaxPool', [input], {}, { name: `${r.name}__slimnet_gmp` }) : input), r.name);
    if (!r.nonNegative) add(minGroups, key, reduce('ReduceMin', input), r.name);
  }
  if (maxGroups.size) {
    const parts: Value[] = [];
    const cat = (vs: Value[]) => b.op('Reshape', [vs.length === 1 ? vs[0]! : b.op('Concat', vs, { axis: 0 }), flat1]);
    for (const group of maxGroups.values()) { parts.push(cat(group.values)); probe.maxNames.push(...group.names); }
    for (const group of minGroups.values()) { parts.push(cat(group.values)); probe.minNames.push(...group.names); }
    const out = parts.length === 1 ? parts[0]! : b.op('Concat', parts, { axis: 0 }, { name: 'slimnet_extremes' });
    g.outputs.push(out);
    probe.extremesOutput = out.name;
  }
  const existing = new Set(g.outputs.map((o) => o.name));
  for (const r of requests) {
    if (!r.derived) continue;
    const out = r.derived.build(b, asFloat(b, value(r.derived.source), r.type), r.name);
    g.outputs.push(out);
    probe.full.push(out.name);
  }
  for (const r of requests.filter((x) => (x.full || x.sample) && !x.derived)) {
    const v = value(r.name);
    if (v.isGraphInput) continue;
    if (!existing.has(v.name)) { g.outputs.push(v); existing.add(v.name); }
    (r.full ? probe.full : probe.sampled).push(v.name);
  }
  return probe;
}
