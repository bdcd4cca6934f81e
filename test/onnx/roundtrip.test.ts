/**
 * The round-trip guarantee: decode then encode an untouched model, and ONNX Runtime gives bitwise
 * identical outputs; opsets, metadata, doc strings, value_info and functions are kept.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, modelToBytes, loadModelFromBytes } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import type { Feeds, SessionInfo, TensorData } from '../../src/runtime/types.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { SYNTHETIC, TRAINED, THIRD_PARTY, bitwiseEqual } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

/** Random feeds from session metadata, with symbolic dims set from `dims`. */
function randomFeeds(info: SessionInfo, dims: Record<string, number>, special: Record<string, TensorData> = {}): Feeds {
  const rng = new Rng(11);
  const feeds: Feeds = {};
  for (const m of info.inputs) {
    if (special[m.name]) { feeds[m.name] = special[m.name]!; continue; }
    const shape = (m.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : dims[String(d)] ?? 1));
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[m.name] = { type: 'float32', dims: shape, data: rng.normals(n) };
  }
  return feeds;
}

async function compare(original: Uint8Array | string, roundTripped: Uint8Array, feeds: (info: SessionInfo) => Feeds): Promise<number> {
  const a = await engine.createSession(typeof original === 'string' ? original : loadModelFromBytes(original));
  const b = await engine.createSession(loadModelFromBytes(roundTripped));
  const f = feeds(a.info);
  const [oa, ob] = [await a.run(f), await b.run(f)];
  await a.release();
  await b.release();
  let checked = 0;
  for (const name of a.info.outputNames) {
    expect(bitwiseEqual(oa[name]!, ob[name]!), `output ${name}`).toBe(true);
    checked++;
  }
  return checked;
}

describe('round trip through slimnet gives bitwise identical ORT outputs', () => {
  const synthetic = readdirSync(SYNTHETIC).filter((f) => f.endsWith('.onnx'));
  it.each(synthetic)('synthetic %s', async (file) => {
    const path = join(SYNTHETIC, file);
    const name = file.replace('.onnx', '');
    const bytes = modelToBytes(loadModel(path));
    for (const seed of [7, 8]) expect(await compare(path, bytes, () => sampleFeeds(name, 2, seed))).toBeGreaterThan(0);
  });

  const trained = existsSync(TRAINED) ? readdirSync(TRAINED).filter((f) => f.endsWith('.onnx')) : [];
  it.each(trained)('trained %s', async (file) => {
    const path = join(TRAINED, file);
    expect(await compare(path, modelToBytes(loadModel(path)), (info) => randomFeeds(info, { batch: 3 }))).toBeGreaterThan(0);
  });

  it('third-party: PaddleOCR classifier (opset 9, Constant weights)', async () => {
    const p = THIRD_PARTY.ocrCls();
    expect(await compare(p, modelToBytes(loadModel(p)), (info) => randomFeeds(info, {}, { x: { type: 'float32', dims: [2, 3, 48, 192], data: new Rng(3).normals(2 * 3 * 48 * 192) } }))).toBe(1);
  });

  it('third-party: PaddleOCR detector (opset 11)', async () => {
    const p = THIRD_PARTY.ocrDet();
    expect(await compare(p, modelToBytes(loadModel(p)), () => ({ x: { type: 'float32', dims: [1, 3, 96, 128], data: new Rng(4).normals(3 * 96 * 128) } }))).toBe(1);
  });

  it('third-party: Silero VAD v4 (nested If, LSTM)', async () => {
    const p = THIRD_PARTY.sileroV4();
    const sr = { type: 'int64' as const, dims: [], data: new BigInt64Array([16000n]) };
    const feeds = () => ({
      input: { type: 'float32' as const, dims: [1, 512], data: new Rng(5).normals(512, 0.1) },
      sr,
      h: { type: 'float32' as const, dims: [2, 1, 64], data: new Float32Array(128) },
      c: { type: 'float32' as const, dims: [2, 1, 64], data: new Float32Array(128) },
    });
    expect(await compare(p, modelToBytes(loadModel(p)), feeds)).toBe(3);
  });

  it('third-party: Silero VAD opset 18 / IR 10 (value_info metadata on initializers)', async () => {
    const p = THIRD_PARTY.sileroOp18();
    const feeds = () => ({
      input: { type: 'float32' as const, dims: [1, 512], data: new Rng(6).normals(512, 0.1) },
      sr: { type: 'int64' as const, dims: [], data: new BigInt64Array([16000n]) },
      state: { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) },
    });
    const rt = modelToBytes(loadModel(p));
    expect(await compare(p, rt, feeds)).toBe(2);
    // The file's initializer annotations survive.
    const m = loadModelFromBytes(rt);
    const annotated = [...m.graph.initializers.values()].filter((v) => v.metadataProps?.length);
    expect(annotated.length).toBeGreaterThan(10);
  });
});

describe('what a round trip keeps', () => {
  it('keeps opset imports (even unused ones), producer, doc strings and metadata', () => {
    const p = THIRD_PARTY.sileroV4();
    const a = loadModel(p);
    const b = loadModelFromBytes(modelToBytes(a));
    expect([...b.opsetImports]).toEqual([...a.opsetImports]);
    expect(b.opsetImports.size).toBe(9);
    expect(b.producerName).toBe('pytorch');
    const m = loadModel(join(SYNTHETIC, 'if_branch.onnx'));
    const m2 = loadModelFromBytes(modelToBytes(m));
    expect(m2.docString).toMatch(/doc strings and metadata must survive/);
    expect(m2.metadataProps).toEqual([['author', 'slimnet'], ['purpose', 'subgraph fixture']]);
  });

  it('keeps value_info types of intermediate values', () => {
    const p = THIRD_PARTY.sileroOp18();
    const count = (m: ReturnType<typeof loadModel>) => [...m.graph.allGraphs()].flatMap((g) => g.nodes.flatMap((n) => n.outputs.filter((o) => o.type))).length;
    const a = loadModel(p);
    expect(count(a)).toBeGreaterThan(10);
    expect(count(loadModelFromBytes(modelToBytes(a)))).toBe(count(a));
  });

  it('original bytes re-encode identically for files written in canonical field order', () => {
    const p = THIRD_PARTY.ocrCls();
    expect(Buffer.compare(readFileSync(p), Buffer.from(modelToBytes(loadModel(p))))).toBe(0);
  });
});
