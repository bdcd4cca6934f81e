/** Small graphs with known answers for the pruning tests, built with slimnet's own builder. */
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Model } from '../../src/ir/model.js';
import type { Value } from '../../src/ir/value.js';
import { floatAttr } from '../../src/ir/attribute.js';
import type { Feeds } from '../../src/runtime/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';

export function images(n: number, c: number, hw: number, seed: number): Feeds {
  return { x: { type: 'float32', dims: [n, c, hw, hw], data: new Rng(seed).normals(n * c * hw * hw) } };
}

class Layers {
  readonly rng: Rng;
  constructor(readonly b: GraphBuilder, seed: number) {
    this.rng = new Rng(seed);
  }

  conv(x: Value, cin: number, cout: number, k: number, opts: { group?: number; bias?: boolean; weight?: Float32Array } = {}): Value {
    const g = opts.group ?? 1;
    const w = this.b.initializer('w', Tensor.float([cout, cin / g, k, k], opts.weight ?? this.rng.normals((cout * cin * k * k) / g, Math.sqrt(2 / (cin * k * k / g)))));
    const inputs = [x, w];
    if (opts.bias ?? true) inputs.push(this.b.initializer('b', Tensor.float([cout], this.rng.normals(cout, 0.1))));
    return this.b.op('Conv', inputs, { kernel_shape: [k, k], pads: [k >> 1, k >> 1, k >> 1, k >> 1], group: g });
  }

  bn(x: Value, c: number): Value {
    const b = this.b;
    return b.op('BatchNormalization', [x, b.floats('g', [c], this.rng.uniforms(c, 0.5, 1.5)), b.floats('be', [c], this.rng.normals(c, 0.1)), b.floats('m', [c], this.rng.normals(c, 0.1)), b.floats('v', [c], this.rng.uniforms(c, 0.5, 1.5))], [floatAttr('epsilon', 1e-5)]);
  }

  head(x: Value, c: number, classes: number): Value {
    const b = this.b;
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: 1 });
    return b.op('Gemm', [pooled, b.floats('fc_w', [classes, c], this.rng.normals(classes * c, 0.3)), b.floats('fc_b', [classes], new Float32Array(classes))], { transB: 1 });
  }
}

/** x -> conv(3->8) -> relu -> conv(8->8) -> relu -> conv(8->6) -> relu -> pool -> gemm(6->5). */
export function convChain(seed = 1, middle?: Float32Array): Model {
  const b = new GraphBuilder({ opset: 17 });
  const l = new Layers(b, seed);
  const x = b.input('x', DataType.FLOAT, ['n', 3, 8, 8]);
  let h = b.op('Relu', [l.conv(x, 3, 8, 3)], {}, { name: 'first' });
  h = b.op('Relu', [b.op('Conv', [h, b.initializer('mid_w', Tensor.float([8, 8, 3, 3], middle ?? l.rng.normals(576, 0.2))), b.floats('mid_b', [8], new Float32Array(8))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'mid' })]);
  h = b.op('Relu', [l.conv(h, 8, 6, 1)]);
  b.output(l.head(h, 6, 5));
  return b.build();
}

/**
 * A residual block: stem conv (3->8) + relu; branch conv+BN, shortcut conv (1x1), Add, relu;
 * then conv (8->4) and a head. `zero` channels of the stem are zero (weights, bias) and so are
 * the stem's downstream contributions: removing them changes nothing.
 */
export function residual(seed = 2, zero: number[] = []): Model {
  const b = new GraphBuilder({ opset: 17 });
  const l = new Layers(b, seed);
  const x = b.input('x', DataType.FLOAT, ['n', 3, 8, 8]);
  const w = l.rng.normals(8 * 3 * 9, 0.4);
  for (const c of zero) w.fill(0, c * 27, (c + 1) * 27);
  const bias = l.rng.normals(8, 0.1);
  for (const c of zero) bias[c] = 0;
  const stem = b.op('Relu', [b.op('Conv', [x, b.initializer('stem_w', Tensor.float([8, 3, 3, 3], w)), b.initializer('stem_b', Tensor.float([8], bias))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'stem' })]);
  const branch = l.bn(l.conv(stem, 8, 8, 3), 8);
  const shortcut = l.conv(stem, 8, 8, 1);
  const sum = b.op('Relu', [b.op('Add', [branch, shortcut], {}, { name: 'residual_add' })]);
  const next = b.op('Relu', [l.conv(sum, 8, 4, 3)]);
  b.output(l.head(next, 4, 3));
  return b.build();
}

/** Depthwise separable block, a Concat of two branches, then Flatten -> Gemm over C x H x W. */
export function depthwiseConcatFlatten(seed = 3): Model {
  const b = new GraphBuilder({ opset: 17 });
  const l = new Layers(b, seed);
  const x = b.input('x', DataType.FLOAT, ['n', 3, 8, 8]);
  const stem = b.op('Relu', [l.conv(x, 3, 16, 3)]);
  const dw = b.op('Clip', [l.bn(l.conv(stem, 16, 16, 3, { group: 16 }), 16), b.floats('lo', [], [0]), b.floats('hi', [], [6])]);
  const pw = b.op('Relu', [l.conv(dw, 16, 16, 1)]);
  const other = b.op('Relu', [l.conv(stem, 16, 8, 1)]);
  const cat = b.op('Concat', [pw, other], { axis: 1 });
  const up = b.op('Resize', [cat, null, b.floats('scales', [4], [1, 1, 2, 2])], { mode: 'nearest' });
  const pooled = b.op('MaxPool', [b.op('Relu', [l.conv(up, 24, 8, 3)])], { kernel_shape: [4, 4], strides: [4, 4] });
  const flat = b.op('Flatten', [pooled], { axis: 1 });
  b.output(b.op('Gemm', [flat, b.floats('fc_w', [5, 8 * 4 * 4], l.rng.normals(5 * 128, 0.1))], { transB: 1 }));
  return b.build();
}

/**
 * One pre-norm transformer block as exporters write it: fused QKV MatMul, Reshape to heads,
 * Transpose, Gather q/k/v, scaled scores, Softmax, merge heads, projection; a GELU MLP.
 */
export function attention(seed = 4, T = 6, dim = 16, heads = 4, hidden = 24): Model {
  const b = new GraphBuilder({ opset: 17 });
  const rng = new Rng(seed);
  const d = dim / heads;
  const x = b.input('x', DataType.FLOAT, ['n', T, dim]);
  const w = (name: string, k: number, n: number) => b.floats(name, [k, n], rng.normals(k * n, 1 / Math.sqrt(k)));
  const ln = b.op('LayerNormalization', [x, b.floats('ln_s', [dim], new Float32Array(dim).fill(1)), b.floats('ln_b', [dim], new Float32Array(dim))], { axis: -1 });
  const qkv = b.op('Add', [b.floats('qkv_b', [3 * dim], rng.normals(3 * dim, 0.1)), b.op('MatMul', [ln, w('qkv_w', dim, 3 * dim)], {}, { name: 'qkv' })]);
  const split = b.op('Transpose', [b.op('Reshape', [qkv, b.int64s('shape5', [5], [0, 0, 3, heads, d])])], { perm: [2, 0, 3, 1, 4] });
  const part = (i: number) => b.op('Gather', [split, b.int64s(`idx${i}`, [], [i])], { axis: 0 });
  const scores = b.op('Mul', [b.op('MatMul', [part(0), b.op('Transpose', [part(1)], { perm: [0, 1, 3, 2] })]), b.floats('scale', [], [1 / Math.sqrt(d)])]);
  const ctx = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), part(2)]);
  const merged = b.op('Reshape', [b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.int64s('shape3', [3], [0, 0, dim])]);
  const attn = b.op('Add', [x, b.op('Add', [b.op('MatMul', [merged, w('proj_w', dim, dim)], {}, { name: 'proj' }), b.floats('proj_b', [dim], rng.normals(dim, 0.1))])]);
  const h = b.op('MatMul', [attn, w('fc1_w', dim, hidden)], {}, { name: 'fc1' });
  const gelu = b.op('Mul', [h, b.op('Sigmoid', [b.op('Mul', [h, b.floats('k', [], [1.702])])])]);
  b.output(b.op('Add', [attn, b.op('MatMul', [gelu, w('fc2_w', hidden, dim)], {}, { name: 'fc2' })]));
  return b.build();
}

/** Channels reaching a LayerNorm over the channel axis, and a graph output: both must block. */
export function blockers(seed = 5): Model {
  const b = new GraphBuilder({ opset: 17 });
  const l = new Layers(b, seed);
  const x = b.input('x', DataType.FLOAT, ['n', 3, 4, 4]);
  const a = b.op('Relu', [l.conv(x, 3, 8, 3)]);
  const normed = b.op('LayerNormalization', [a, b.floats('s', [8, 4, 4], new Float32Array(128).fill(1))], { axis: 1 });
  b.output(l.conv(normed, 8, 4, 1));
  b.output(b.op('Relu', [l.conv(x, 3, 6, 1)], {}, { outputNames: ['features'] }));
  return b.build();
}
