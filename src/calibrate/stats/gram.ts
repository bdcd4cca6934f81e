/**
 * Gram matrices X^T X computed inside ONNX Runtime: of the rows of a tensor's last axis (the inputs
 * of a MatMul or Gemm), or of the patches a Conv multiplies with its weight (im2col), one matrix per
 * convolution group. SparseGPT and least-squares reconstruction need them for layers 3072 or 4608
 * wide, where the products are billions of multiply-adds per sample: ONNX Runtime's GEMM does them
 * at tens of GFLOP/s, a loop in JS at one or two. Each batch's matrix is summed in float32 by the
 * runtime and the batches in float64 here; memory is g x K x K whatever the number of samples.
 *
 * The patches come from a grouped convolution with one-hot kernels (one output channel per input
 * channel and kernel tap, in the weight's own (channel, row, column) order), run with the layer's
 * strides, pads and dilations, so every geometry and dynamic image size is handled by the runtime.
 */
import type { SubgraphBuilder } from '../../ir/builder.js';
import type { Value } from '../../ir/value.js';
import { Tensor } from '../../ir/tensor.js';
import type { AttrInput } from '../../ir/attribute.js';
import type { ConvPatches, StatRequest } from '../types.js';
import type { GramStat } from './results.js';
import type { BatchValues, Reducer } from './reducer.js';

type GramRequest = Extract<StatRequest, { kind: 'gram' }>;

/** Rows of the matrix: patch length per group (plus one for the bias column). */
export function gramSize(request: GramRequest): { groups: number; size: number } {
  const c = request.conv;
  const bias = request.bias ? 1 : 0;
  if (!c) return { groups: 1, size: request.features + bias };
  const taps = c.kernel.reduce((a, b) => a * b, 1);
  return { groups: c.group, size: (request.features / c.group) * taps + bias };
}

export class GramReducer implements Reducer {
  readonly needs = 'derived' as const;
  private gram = new Float64Array(0);
  private batches = 0;

  constructor(readonly request: GramRequest, private readonly opset: number) {
    if (request.conv && request.features % request.conv.group !== 0) throw new RangeError(`gram of '${request.tensor}': ${request.features} channels do not split into ${request.conv.group} groups`);
  }

  /** Bytes of the matrix the runtime hands back per batch (and of its row count). */
  get derivedBytes(): number {
    const { groups, size } = gramSize(this.request);
    return 4 * (groups * size * size + (this.request.conv ? 0 : size));
  }

  /** Adds the nodes computing this batch's Gram matrix ([groups, K, K]) from `x`, named `output`. */
  derive(b: SubgraphBuilder, x: Value, output: string): Value {
    const r = this.request;
    const channels = r.features;
    const { groups, size } = gramSize(r);
    const k = size - (r.bias ? 1 : 0);
    const int64 = (name: string, v: number[]) => b.initializer(name, Tensor.int64([v.length], v));
    let rows: Value; // [N, groups, k, L] for convolutions, [R, k] otherwise
    if (r.conv) {
      const c = r.conv;
      const taps = c.kernel.reduce((a, b2) => a * b2, 1);
      let patches = x;
      const identity = taps === 1 && c.strides.every((s) => s === 1) && c.pads.every((p) => p === 0);
      if (!identity) {
        // One-hot kernels: output channel ch * taps + t copies tap t of input channel ch.
        const w = new Float32Array(channels * taps * taps);
        for (let ch = 0; ch < channels; ch++) for (let t = 0; t < taps; t++) w[(ch * taps + t) * taps + t] = 1;
        const weight = b.initializer(`${output}_onehot`, Tensor.float([channels * taps, 1, ...c.kernel], w));
        const attrs: Record<string, AttrInput> = { kernel_shape: c.kernel, strides: c.strides, dilations: c.dilations, group: channels };
        if (c.autoPad) attrs.auto_pad = c.autoPad;
        else attrs.pads = c.pads;
        patches = b.op('Conv', [x, weight], attrs);
      }
      rows = b.op('Reshape', [patches, int64(`${output}_shape`, [0, groups, k, -1])]);
    } else {
      rows = b.op('Reshape', [x, int64(`${output}_shape`, [-1, k])]);
    }
    if (r.bias) {
      // The constant 1 that multiplies a bias, as one more feature of every row.
      const axis = r.conv ? 2 : 1;
      const rank = r.conv ? 4 : 2;
      const pads = new Array<number>(2 * rank).fill(0);
      pads[rank + axis] = 1;
      rows = this.opset >= 11
        ? b.op('Pad', [rows, int64(`${output}_pads`, pads), b.initializer(`${output}_one`, Tensor.float([], [1]))])
        : b.op('Pad', [rows], { pads, value: 1 });
    }
    if (!r.conv) {
      const t = b.op('Transpose', [rows], { perm: [1, 0] });
      const gram = b.op('MatMul', [t, rows]);
      // One more row holding the number of rows in the batch: X^T X of fewer rows than features
      // is singular, and GPTQ fitted to it can do worse than plain rounding (quantize-weight-only.ts says so).
      const count = b.op('Cast', [b.op('Gather', [b.op('Shape', [rows]), b.initializer(`${output}_first`, Tensor.int64([], [0]))])], { to: 1 });
      const countRow = b.op('Expand', [b.op('Reshape', [count, int64(`${output}_one_by_one`, [1, 1])]), int64(`${output}_row`, [1, size])]);
      return b.op('Concat', [gram, countRow], { axis: 0 }, { outputNames: [output] });
    }
    const t = b.op('Transpose', [rows], { perm: [0, 1, 3, 2] });
    const perSample = b.op('MatMul', [rows, t]);
    return this.opset >= 13
      ? b.op('ReduceSum', [perSample, int64(`${output}_axes`, [0])], { keepdims: 0 }, { outputNames: [output] })
      : b.op('ReduceSum', [perSample], { axes: [0], keepdims: 0 }, { outputNames: [output] });
  }

  update(batch: BatchValues): void {
    const v = batch.values!;
    if (this.gram.length === 0) this.gram = new Float64Array(v.length);
    if (v.length !== this.gram.length) throw new RangeError(`Gram matrix of '${this.request.tensor}' changed size between batches (${this.gram.length} then ${v.length} values)`);
    const g = this.gram;
    for (let i = 0; i < v.length; i++) g[i]! += v[i]!;
    this.batches++;
  }

  result(): GramStat {
    const { groups, size } = gramSize(this.request);
    const values = groups * size * size;
    const stat: GramStat = { kind: 'gram', tensor: this.request.tensor, groups, size, bias: this.request.bias ?? false, gram: this.gram.subarray(0, values), batches: this.batches };
    if (!this.request.conv && this.gram.length > values) stat.rows = this.gram[values]!;
    return stat;
  }
}

/** The geometry of a Conv node's patches, as its attributes give them (2-D kernels have 2 entries). */
export function convPatches(attrs: { kernel: number[]; strides?: number[]; pads?: number[]; dilations?: number[]; group?: number }): ConvPatches {
  const n = attrs.kernel.length;
  return {
    kernel: [...attrs.kernel],
    strides: attrs.strides ?? new Array<number>(n).fill(1),
    pads: attrs.pads ?? new Array<number>(2 * n).fill(0),
    dilations: attrs.dilations ?? new Array<number>(n).fill(1),
    group: attrs.group ?? 1,
  };
}
