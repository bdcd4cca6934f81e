import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Node } from '../../src/ir/node.js';
import { Value } from '../../src/ir/value.js';
import { Tensor } from '../../src/ir/tensor.js';
import { cloneModel } from '../../src/ir/clone.js';
import { runPasses, removeUnused, deduplicateInitializers, topologicalSort, CLEANUP_PASSES, type Pass } from '../../src/ir/passes/index.js';
import { PassError } from '../../src/errors.js';

function chain() {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const a = b.op('Relu', [x], {}, { name: 'relu' });
  const c = b.op('Neg', [a], {}, { name: 'neg' });
  b.output(c);
  return { b, x, a, c };
}

describe('values and nodes', () => {
  it('track producers and uses through rewiring', () => {
    const { b, x, a, c } = chain();
    const neg = c.producer!;
    expect(a.producer?.opType).toBe('Relu');
    expect(a.uses).toEqual([{ node: neg, index: 0 }]);
    neg.replaceInput(0, x);
    expect(a.uses).toHaveLength(0);
    expect(x.uses.map((u) => u.node.opType).sort()).toEqual(['Neg', 'Relu']);
    expect(b.graph.nodes).toHaveLength(2);
  });

  it('replaceAllUsesWith moves every use and graph-output slot', () => {
    const { b, x, c } = chain();
    const extra = b.op('Abs', [c]);
    b.output(extra);
    const replacement = b.op('Sigmoid', [x]);
    c.replaceAllUsesWith(replacement);
    expect(c.uses).toHaveLength(0);
    expect(extra.producer!.input(0)).toBe(replacement);
    expect(b.graph.outputs[0]).toBe(replacement);
  });

  it('refuses to remove a node whose output is still used or is a graph output', () => {
    const { b, a, c } = chain();
    expect(() => b.graph.remove(a.producer!)).toThrow(/output .* is used by 'neg'/);
    expect(() => b.graph.remove(c.producer!)).toThrow(/is a graph output/);
  });

  it('inserts before and after a node', () => {
    const { b, x, a } = chain();
    const relu = a.producer!;
    const pre = new Node('Identity', [x], [new Value('pre')], { name: 'pre' });
    const post = new Node('Identity', [a], [new Value('post')], { name: 'post' });
    b.graph.insertBefore(relu, pre);
    b.graph.insertAfter(relu, post);
    expect(b.graph.nodes.map((n) => n.name)).toEqual(['pre', 'relu', 'post', 'neg']);
  });

  it('hands out unique names', () => {
    const { b } = chain();
    const names = b.model.names;
    expect(names.fresh('relu')).toBe('relu_1');
    expect(names.fresh('relu')).toBe('relu_2');
    expect(names.fresh('brand_new')).toBe('brand_new');
  });
});

describe('passes', () => {
  it('removes dead nodes and initializers, back to front', () => {
    const { b, x } = chain();
    const w = b.floats('w', [2], [1, 2]);
    const dead1 = b.op('Mul', [x, w]);
    b.op('Exp', [dead1]);
    const log = runPasses(b.model, [removeUnused]);
    expect(log.changed).toEqual(['remove-unused']);
    expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Neg']);
    expect(b.graph.initializers.size).toBe(0);
  });

  it('deduplicates identical initializers', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const w1 = b.floats('w', [2], [1, 2]);
    const w2 = b.floats('w', [2], [1, 2]);
    const w3 = b.floats('w', [2], [1, 3]);
    b.output(b.op('Sum', [b.op('Mul', [x, w1]), b.op('Mul', [x, w2]), b.op('Mul', [x, w3])]));
    expect(deduplicateInitializers.run(b.model)).toBe(true);
    expect([...b.graph.initializers.keys()]).toEqual([w1.name, w3.name]);
    expect(w1.uses).toHaveLength(2);
  });

  it('compares in full what a sample of the bytes cannot tell apart', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1000]);
    const base = Array.from({ length: 1000 }, (_, i) => i / 7);
    // Element 1 (bytes 4-7) lies between the sampled bytes (every 62nd of 4000).
    const odd = base.map((v, i) => (i === 1 ? v + 1 : v));
    const [w1, w2, w3] = [base, odd, base].map((d) => b.floats('w', [1000], d));
    b.output(b.op('Sum', [w1!, w2!, w3!].map((w) => b.op('Mul', [x, w]))));
    expect(deduplicateInitializers.run(b.model)).toBe(true);
    expect([...b.graph.initializers.keys()]).toEqual([w1!.name, w2!.name]);
    expect(w1!.uses).toHaveLength(2);
  });

  it('sorts topologically and stably, including reads from inside subgraphs', () => {
    const { b } = chain();
    const g = b.graph;
    const nodes = [...g.nodes];
    g.reorder([nodes[1]!, nodes[0]!]);
    expect(topologicalSort.run(b.model)).toBe(true);
    expect(g.nodes.map((n) => n.name)).toEqual(['relu', 'neg']);
    expect(topologicalSort.run(b.model)).toBe(false);
  });

  it('reaches a fixed point and names a failing pass', () => {
    const { b } = chain();
    const log = runPasses(b.model, CLEANUP_PASSES);
    expect(log.iterations).toBe(1);
    const broken: Pass = { name: 'explode', run: () => { throw new Error('boom'); } };
    expect(() => runPasses(b.model, [broken])).toThrow(PassError);
    expect(() => runPasses(b.model, [broken])).toThrow(/pass 'explode' failed/);
  });

  it('clones without sharing structure but sharing tensors', () => {
    const { b, x } = chain();
    const w = b.floats('w', [2], [1, 2]);
    b.output(b.op('Mul', [x, w]));
    const c = cloneModel(b.model);
    expect(c.graph.nodes).toHaveLength(3);
    expect(c.graph.nodes[0]).not.toBe(b.graph.nodes[0]);
    expect(c.graph.initializers.get(w.name)!.constValue).toBe(w.constValue);
    c.graph.outputs.pop();
    removeUnused.run(c);
    expect(c.graph.nodes).toHaveLength(2);
    expect(b.graph.nodes).toHaveLength(3);
    expect(c.graph.nodes[0]!.input(0)).toBe(c.graph.inputs[0]);
  });

  it('exposes constants from initializers and Constant nodes alike', () => {
    const b = new GraphBuilder({ opset: 17 });
    const k = b.op('Constant', [], { value: { name: 'value', type: 4, value: Tensor.float([1], [3]) } });
    expect(k.constant?.scalar()).toBe(3);
    expect(b.floats('w', [1], [4]).constant?.scalar()).toBe(4);
  });
});

describe('constants-to-initializers', () => {
  it('moves Constant weights (PaddleOCR style, also inside subgraphs) to initializers with identical outputs', async () => {
    const { loadModel } = await import('../../src/onnx/io.js');
    const { Engine } = await import('../../src/runtime/engine.js');
    const { constantsToInitializers } = await import('../../src/ir/passes/index.js');
    const { THIRD_PARTY, bitwiseEqual } = await import('../helpers.js');
    const { Rng } = await import('../../fixtures/synthetic/random.js');
    const original = loadModel(THIRD_PARTY.ocrCls());
    const m = cloneModel(original);
    expect(runPasses(m, [constantsToInitializers]).changed).toContain('constants-to-initializers');
    expect(m.graph.nodes.filter((n) => n.opType === 'Constant')).toHaveLength(0);
    expect(m.graph.initializers.size).toBe(250);
    const engine = new Engine({ intraOpThreads: 1 });
    const feeds = { x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Rng(1).normals(3 * 48 * 192) } };
    const [a, b] = [await engine.createSession(original), await engine.createSession(m)];
    const [oa, ob] = [await a.run(feeds), await b.run(feeds)];
    const name = a.info.outputNames[0]!;
    expect(bitwiseEqual(oa[name]!, ob[name]!)).toBe(true);
    await engine.close();
  });
});
