/**
 * The probe: a copy of the model that hands back what the reducers need and nothing more.
 * - extremes: ReduceMin/ReduceMax of every observed tensor, computed by ONNX Runtime's vectorized
 *   kernels and packed into ONE output, so min/max calibration never copies an activation out of
 *   the runtime and pays the per-output cost of the Node binding once, not twice per tensor;
 * - strided samples: each tensor flattened and sliced with a start and step fed at run time (one
 *   packed int64 input), concatenated into one output with a second output of their lengths, so a
 *   histogram sees a bounded number of values however large the activation is;
 * - full tensors, for per-channel statistics and X^T X, which need every value.
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
  extremes: boolean;
  sample: boolean;
  full: boolean;
}

export interface Probe {
  model: Model;
  /** Output [2 * extremes.length]: mins of `extremes` in order, then their maxes. */
  extremesOutput?: string;
  extremes: string[];
  /** Output of the strided samples of `sampled` concatenated, and int64 output of their lengths. */
  samplesOutput?: string;
  lengthsOutput?: string;
  sampled: string[];
  /** int64 input [2 * sampled.length]: start and step of each sample. */
  samplingInput?: string;
  /** Tensors fetched whole (graph inputs are read from the feeds instead). */
  full: string[];
  /** Every output name to fetch. */
  fetch: string[];
}

/** Strided slices need Slice with `steps` (opset 10); below that histograms read the full tensor. */
export function canSample(model: Model): boolean {
  return (model.opset('') ?? 0) >= 10;
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
  const opset = copy.opset('') ?? 0;
  const byName = new Map<string, Value>();
  for (const v of g.inputs) byName.set(v.name, v);
  for (const n of g.nodes) for (const o of n.outputs) byName.set(o.name, o);
  const value = (name: string) => {
    const v = byName.get(name);
    if (!v) throw new Error(`probe: no tensor '${name}' in the main graph`);
    return v;
  };
  const probe: Probe = { model: copy, extremes: [], sampled: [], full: [], fetch: [] };
  // Unsqueeze takes axes as an input from opset 13, as an attribute before.
  const toVector = (v: Value) => (opset >= 13 ? b.op('Unsqueeze', [v, b.initializer('slimnet_axis0', Tensor.int64([1], [0]))]) : b.op('Unsqueeze', [v], { axes: [0] }));
  const mins: Value[] = [];
  const maxs: Value[] = [];
  for (const r of requests.filter((x) => x.extremes)) {
    const v = value(r.name);
    mins.push(toVector(asFloat(b, b.op('ReduceMin', [v], { keepdims: 0 }, { name: `${r.name}__slimnet_min` }), r.type)));
    maxs.push(toVector(asFloat(b, b.op('ReduceMax', [v], { keepdims: 0 }, { name: `${r.name}__slimnet_max` }), r.type)));
    probe.extremes.push(r.name);
  }
  if (mins.length) {
    const out = b.op('Concat', [...mins, ...maxs], { axis: 0 }, { name: 'slimnet_extremes' });
    g.outputs.push(out);
    probe.extremesOutput = out.name;
  }
  const sampled = requests.filter((x) => x.sample);
  if (sampled.length) {
    const control = b.input('slimnet_sampling', DataType.INT64, [2 * sampled.length]);
    probe.samplingInput = control.name;
    const flatShape = b.initializer('slimnet_flat', Tensor.int64([1], [-1]));
    const end = b.initializer('slimnet_end', Tensor.int64([1], BigInt64Array.of(2n ** 62n)));
    const axes = b.initializer('slimnet_slice_axis', Tensor.int64([1], [0]));
    const parts: Value[] = [];
    const lengths: Value[] = [];
    sampled.forEach((r, i) => {
      const at = (k: number) => b.op('Gather', [control, b.initializer('slimnet_at', Tensor.int64([1], [k]))], { axis: 0 });
      const flat = b.op('Reshape', [value(r.name), flatShape], {}, { name: `${r.name}__slimnet_flat` });
      const part = asFloat(b, b.op('Slice', [flat, at(2 * i), end, axes, at(2 * i + 1)], {}, { name: `${r.name}__slimnet_sample` }), r.type);
      parts.push(part);
      lengths.push(b.op('Shape', [part]));
      probe.sampled.push(r.name);
    });
    const samples = b.op('Concat', parts, { axis: 0 }, { name: 'slimnet_samples' });
    const lens = b.op('Concat', lengths, { axis: 0 }, { name: 'slimnet_sample_lengths' });
    g.outputs.push(samples, lens);
    probe.samplesOutput = samples.name;
    probe.lengthsOutput = lens.name;
  }
  const existing = new Set(g.outputs.map((o) => o.name));
  for (const r of requests.filter((x) => x.full)) {
    const v = value(r.name);
    if (v.isGraphInput) continue;
    if (!existing.has(v.name)) { g.outputs.push(v); existing.add(v.name); }
    probe.full.push(v.name);
  }
  probe.fetch = [probe.extremesOutput, probe.samplesOutput, probe.lengthsOutput, ...probe.full].filter((x): x is string => !!x);
  return probe;
}
