import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { loadModel, saveModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { asFloat32 } from '../../src/runtime/tensor-data.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { OptionError, RuntimeError } from '../../src/errors.js';
import type { Feeds } from '../../src/runtime/types.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { FIXTURES, SYNTHETIC, TRAINED } from '../helpers.js';

// One engine per runtime for the whole file: each wasm engine compiles the 14 MB module once (~1 s).
const wasm = new Engine({ runtime: 'wasm' });
const node = new Engine({ intraOpThreads: 1 });
afterAll(() => Promise.all([wasm.close(), node.close()]));

const RESNET = join(TRAINED, 'resnet_bn.onnx');

function fmnistFeeds(n: number): Feeds {
  const all = new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz')).array('input');
  return { input: { type: 'float32', dims: [n, 1, 28, 28], data: (all.data as Float32Array).slice(0, n * 784) } };
}

/** Largest difference relative to the output's scale: float kernels differ in summation order only. */
async function compareRuntimes(model: string, feeds: Feeds, output: string): Promise<number> {
  const [w, n] = [await wasm.createSession(model), await node.createSession(model)];
  const [a, b] = [asFloat32((await w.run(feeds))[output]!), asFloat32((await n.run(feeds))[output]!)];
  await Promise.all([w.release(), n.release()]);
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function matmulChain(rows: number, layers: number) {
  const b = new GraphBuilder({ opset: 17 });
  let h = b.input('x', DataType.FLOAT, [rows, 512]);
  for (let i = 0; i < layers; i++) h = b.op('Tanh', [b.op('MatMul', [h, b.floats('w', [512, 512], new Float32Array(512 * 512).fill(0.001))])]);
  b.output(h);
  return b.model;
}

describe('Engine on the wasm runtime (onnxruntime-web)', () => {
  it('gives the trained ResNet the same logits as onnxruntime-node, on the wasm provider', async () => {
    const s = await wasm.createSession(RESNET);
    expect(s.info.provider).toBe('wasm');
    expect(s.info.inputNames).toEqual(['input']);
    expect(s.info.outputs[0]).toMatchObject({ name: 'logits', type: 'float32' });
    await s.release();
    expect(await compareRuntimes(RESNET, fmnistFeeds(8), 'logits')).toBeLessThan(1e-5);
  });

  it('gives a synthetic transformer block (int64 ids, LayerNorm, Softmax) the same outputs as onnxruntime-node', async () => {
    const model = join(SYNTHETIC, 'transformer_block.onnx');
    const output = loadModel(model).graph.outputs[0]!.name;
    expect(await compareRuntimes(model, sampleFeeds('transformer_block'), output)).toBeLessThan(1e-5);
  });

  it('times runs in the worker and returns the requested number of positive timings', async () => {
    const s = await wasm.createSession(RESNET);
    const times = await s.time(fmnistFeeds(1), 5);
    expect(times).toHaveLength(5);
    for (const t of times) expect(t).toBeGreaterThan(0);
    await s.release();
  });

  it('fetches intermediate tensors of an IR model (sent as bytes)', async () => {
    const m = loadModel(RESNET);
    const hidden = m.graph.nodes.find((n) => n.opType === 'Relu')!.outputs[0]!.name;
    const s = await wasm.createSession(m, { extraOutputs: [hidden] });
    const out = await s.run(fmnistFeeds(1));
    expect(Object.keys(out).sort()).toEqual([hidden, 'logits'].sort());
    await s.release();
  });

  it('loads a model with external data from its path (onnxruntime-web gets each data file by name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-wasm-'));
    try {
      const path = join(dir, 'resnet.onnx');
      saveModel(loadModel(RESNET), path, { externalData: { threshold: 1024 } });
      expect(existsSync(`${path}.data`)).toBe(true);
      const feeds = fmnistFeeds(2);
      const [a, b] = [await wasm.createSession(path), await wasm.createSession(RESNET)];
      expect(Array.from(asFloat32((await a.run(feeds)).logits!))).toEqual(Array.from(asFloat32((await b.run(feeds)).logits!)));
      await Promise.all([a.release(), b.release()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what onnxruntime-web cannot do with a message that says why, instead of ignoring it', async () => {
    await expect(wasm.createSession(RESNET, { optimizedModelPath: '/tmp/never.onnx' })).rejects.toThrow(OptionError);
    await expect(wasm.createSession(RESNET, { optimizedModelPath: '/tmp/never.onnx' })).rejects.toThrow(/optimizedModelPath is not supported on the wasm runtime/);
    await expect(wasm.createSession(RESNET, { profilePrefix: '/tmp/p' })).rejects.toThrow(/profiling .* not supported on the wasm runtime/);
    // The first session fixed the module at 1 thread; another count needs another engine.
    await expect(wasm.createSession(RESNET, { intraOpThreads: 2 })).rejects.toThrow(/already runs onnxruntime-web with 1 thread/);
    await expect(wasm.createSession(RESNET, { providers: ['cuda'], strictProviders: true })).rejects.toThrow(/'cuda' is not part of the wasm runtime/);
    const s = await wasm.createSession(RESNET, { providers: ['cuda', 'cpu'] });
    expect(s.info.provider).toBe('wasm');
    expect(s.info.notes.join('\n')).toMatch(/'cuda' is not part of the wasm runtime.*skipped/);
    await expect(s.endProfiling()).rejects.toThrow(RuntimeError);
    await s.release();
    expect(wasm.providers()).toEqual([{ name: 'wasm', available: true }]);
    await expect(node.createSession(RESNET, { providers: ['wasm'] })).rejects.toThrow(/runtime: 'wasm'/);
  });

  it('passes session config entries through to onnxruntime-web', async () => {
    // Observable only through its effect: told to expect the ORT flatbuffer format, it cannot load an .onnx file.
    await expect(wasm.createSession(RESNET, { config: { 'session.load_model_format': 'ORT' } })).rejects.toThrow(/ORT model verification failed/);
  });

  it('leaves optimize() to onnxruntime-node (BatchNorm folded)', async () => {
    const optimized = await wasm.optimize(join(SYNTHETIC, 'conv_block.onnx'));
    expect(optimized.graph.nodes.map((n) => n.opType)).not.toContain('BatchNormalization');
  });

  it('releases sessions: a released session refuses to run, releasing twice is harmless', async () => {
    const s = await wasm.createSession(RESNET);
    await s.release();
    await s.release();
    await expect(s.run(fmnistFeeds(1))).rejects.toThrow(/released/);
  });

  it('keeps the event loop free while wasm inference runs', async () => {
    const s = await wasm.createSession(matmulChain(256, 8)); // ~1 GFLOP: tens of ms in wasm
    let ticksWhilePending = 0;
    let done = false;
    const timer = setInterval(() => { if (!done) ticksWhilePending++; }, 1);
    await s.run({ x: { type: 'float32', dims: [256, 512], data: new Float32Array(256 * 512).fill(1) } });
    done = true;
    clearInterval(timer);
    await s.release();
    expect(ticksWhilePending).toBeGreaterThan(3);
  });
});
