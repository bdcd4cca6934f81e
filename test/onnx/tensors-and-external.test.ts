/** Every data type in raw and typed fields; external data; > protobuf-sized handling; bad files. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, existsSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Tensor } from '../../src/ir/tensor.js';
import { loadModel, saveModel, modelToBytes, loadModelFromBytes } from '../../src/onnx/io.js';
import { onnxTypes } from '../../src/onnx/schema.js';
import { Engine } from '../../src/runtime/engine.js';
import { InvalidModelError } from '../../src/errors.js';
import { bitwiseEqual } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'slimnet-test-'));
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tensor data types', () => {
  const cases: [DataType, ArrayLike<number>][] = [
    [DataType.FLOAT, [1.5, -2.25, 3e-8]],
    [DataType.DOUBLE, [1.5, -2.25, 1e-300]],
    [DataType.FLOAT16, [1.5, -2.25, 65504]],
    [DataType.BFLOAT16, [1.5, -2.25, 3e38]],
    [DataType.INT8, [-128, 0, 127]],
    [DataType.UINT8, [0, 128, 255]],
    [DataType.INT16, [-32768, 1, 32767]],
    [DataType.UINT16, [0, 1, 65535]],
    [DataType.INT32, [-2147483648, 7, 2147483647]],
    [DataType.UINT32, [0, 7, 4294967295]],
    [DataType.INT64, [-9007199254740991, 7, 9007199254740991]],
    [DataType.INT4, [-8, 0, 7]],
    [DataType.UINT4, [0, 9, 15]],
    [DataType.FLOAT8E4M3FN, [1, -448, 0.5]],
    [DataType.FLOAT8E5M2, [1, -57344, 0.5]],
    [DataType.FLOAT8E4M3FNUZ, [1, -240, 0.5]],
    [DataType.FLOAT8E5M2FNUZ, [1, -57344, 0.5]],
  ];
  it.each(cases)('type %i survives raw_data encode/decode', (type, values) => {
    const b = new GraphBuilder({ opset: 21 });
    const t = Tensor.fromFloat32(type, [3], values);
    b.initializer('t', t);
    b.output(b.op('Identity', [b.graph.initializers.get('t')!]));
    const back = loadModelFromBytes(modelToBytes(b.model)).graph.initializers.get('t')!.constValue!;
    expect(back.dataType).toBe(type);
    expect(Array.from(back.toFloat32())).toEqual(Array.from(t.toFloat32()));
  });

  it('reads the typed repeated fields (float_data, int32_data, int64_data, double_data, uint64_data, string_data)', () => {
    const Model = onnxTypes().ModelProto;
    const tensors = [
      { name: 'f', data_type: DataType.FLOAT, dims: [2], float_data: [1.5, -2] },
      { name: 'h', data_type: DataType.FLOAT16, dims: [2], int32_data: [0x3c00, 0xc000] },
      { name: 'i8', data_type: DataType.INT8, dims: [2], int32_data: [-5, 6] },
      { name: 'b', data_type: DataType.BOOL, dims: [2], int32_data: [1, 0] },
      { name: 'i64', data_type: DataType.INT64, dims: [2], int64_data: [-3, 9007199254740991] },
      { name: 'd', data_type: DataType.DOUBLE, dims: [1], double_data: [0.1] },
      { name: 'u32', data_type: DataType.UINT32, dims: [1], uint64_data: [4000000000] },
      { name: 's', data_type: DataType.STRING, dims: [2], string_data: [Buffer.from('ab'), Buffer.from('')] },
    ];
    const bytes = Model.encode(Model.fromObject({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], graph: { name: 'g', initializer: tensors } })).finish();
    const m = loadModelFromBytes(bytes);
    const get = (n: string) => m.graph.initializers.get(n)!.constValue!;
    expect(Array.from(get('f').toFloat32())).toEqual([1.5, -2]);
    expect(Array.from(get('h').toFloat32())).toEqual([1, -2]);
    expect(Array.from(get('i8').toFloat32())).toEqual([-5, 6]);
    expect(Array.from(get('b').data())).toEqual([1, 0]);
    expect(Array.from(get('i64').data() as BigInt64Array)).toEqual([-3n, 9007199254740991n]);
    expect(get('d').toFloat32()[0]).toBeCloseTo(0.1);
    expect(Array.from(get('u32').data())).toEqual([4000000000]);
    expect(get('s').strings().map((s) => Buffer.from(s).toString())).toEqual(['ab', '']);
    // Re-encoded (as raw_data) they decode to the same values.
    const again = loadModelFromBytes(modelToBytes(m));
    expect(Array.from(again.graph.initializers.get('i64')!.constValue!.data() as BigInt64Array)).toEqual([-3n, 9007199254740991n]);
    expect(again.graph.initializers.get('s')!.constValue!.strings().map((s) => Buffer.from(s).toString())).toEqual(['ab', '']);
  });

  it('keeps INT64_MAX in int attributes (Slice ends in old opsets)', () => {
    const b = new GraphBuilder({ opset: 9 });
    const x = b.input('x', DataType.FLOAT, [4]);
    b.output(b.op('Slice', [x], { starts: [1], ends: [9223372036854775807], axes: [0] }));
    const m = loadModelFromBytes(modelToBytes(b.model));
    const Model = onnxTypes().ModelProto;
    const obj = Model.toObject(Model.decode(modelToBytes(m)), { longs: String }) as { graph: { node: { attribute: { name: string; ints: string[] }[] }[] } };
    expect(obj.graph.node[0]!.attribute.find((a) => a.name === 'ends')!.ints).toEqual(['9223372036854775807']);
  });
});

function mlp(hidden = 64) {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['n', 16]);
  const w1 = b.floats('w1', [16, hidden], Float32Array.from({ length: 16 * hidden }, (_, i) => Math.sin(i) * 0.1));
  const w2 = b.floats('w2', [hidden, 4], Float32Array.from({ length: hidden * 4 }, (_, i) => Math.cos(i) * 0.1));
  const small = b.floats('bias', [4], [0.1, 0.2, 0.3, 0.4]);
  b.output(b.op('Add', [b.op('MatMul', [b.op('Relu', [b.op('MatMul', [x, w1])]), w2]), small]));
  return b.model;
}

describe('external data', () => {
  const feeds = { x: { type: 'float32' as const, dims: [3, 16], data: Float32Array.from({ length: 48 }, (_, i) => i / 10 - 2) } };

  it('saves weights above the threshold to a data file and loads them back lazily', async () => {
    const m = mlp();
    const path = join(dir, 'mlp.onnx');
    const res = saveModel(m, path, { externalData: { threshold: 1024 } });
    expect(res.externalDataPath).toBe(join(dir, 'mlp.onnx.data'));
    expect(res.bytes).toBeLessThan(1024);
    const loaded = loadModel(path);
    const w1 = loaded.graph.initializers.get('w1')!.constValue!;
    expect(w1.isExternal).toBe(true);
    expect(w1.externalLocation!.offset % 16).toBe(0);
    expect(loaded.graph.initializers.get('bias')!.constValue!.isExternal).toBe(false);
    // ORT loads it from the path (external data next to it) and from our IR, with identical outputs.
    const a = await engine.createSession(path);
    const b2 = await engine.createSession(loaded);
    const c = await engine.createSession(mlp());
    const [oa, ob, oc] = [await a.run(feeds), await b2.run(feeds), await c.run(feeds)];
    const name = a.info.outputNames[0]!;
    expect(bitwiseEqual(oa[name]!, ob[name]!)).toBe(true);
    expect(bitwiseEqual(oa[name]!, oc[name]!)).toBe(true);
    // No temporary files are left behind.
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('re-saves over its own data file safely (external tensors are read before replacement)', () => {
    const path = join(dir, 'resave.onnx');
    saveModel(mlp(), path, { externalData: true });
    const m = loadModel(path);
    saveModel(m, path, { externalData: { threshold: 4096 } });
    saveModel(m, path); // now inline
    const again = loadModel(path);
    expect(Array.from(again.graph.initializers.get('w1')!.constValue!.toFloat32().slice(0, 3))).toEqual(Array.from(mlp().graph.initializers.get('w1')!.constValue!.toFloat32().slice(0, 3)));
  });

  it('reports a missing external data file with its name', () => {
    const path = join(dir, 'missing.onnx');
    saveModel(mlp(), path, { externalData: true });
    rmSync(join(dir, 'missing.onnx.data'));
    expect(() => loadModel(path)).toThrow(InvalidModelError);
    expect(() => loadModel(path)).toThrow(/external data file 'missing.onnx.data' \(tensor 'w1'\) is missing/);
  });

  it('reports a truncated external data file', () => {
    const path = join(dir, 'short.onnx');
    saveModel(mlp(), path, { externalData: true });
    const data = join(dir, 'short.onnx.data');
    truncateSync(data, statSync(data).size - 100);
    expect(() => loadModel(path)).toThrow(/is .* bytes, but tensor 'w2' needs bytes/);
  });
});

describe('bad model files', () => {
  it('names the file and says what is wrong', () => {
    const notOnnx = join(dir, 'notes.onnx');
    writeFileSync(notOnnx, 'this is not a model, just text\n'.repeat(10));
    expect(() => loadModel(notOnnx)).toThrow(/notes.onnx: not a valid ONNX model: this is a text file; an ONNX model is a binary protobuf file/);
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    expect(() => loadModel(empty)).toThrow(/empty.onnx: the file is empty/);
    expect(() => loadModel(join(dir, 'nope.onnx'))).toThrow(/nope.onnx: no such file/);
    const truncated = join(dir, 'truncated.onnx');
    const full = modelToBytes(mlp());
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length * 0.6)));
    expect(() => loadModel(truncated)).toThrow(/truncated.onnx: not a valid ONNX model: the file is truncated or not an ONNX model/);
  });

  it('writes atomically: a failed save leaves no partial output', () => {
    const path = join(dir, 'atomic.onnx');
    const m = mlp();
    // A tensor whose data cannot be produced makes encoding throw midway.
    const bad = Tensor.external(DataType.FLOAT, [1024], { path: join(dir, 'gone.bin'), location: 'gone.bin', offset: 0, length: 4096 }, 'bad');
    m.graph.addInitializer('bad', bad);
    expect(() => saveModel(m, path)).toThrow(/gone.bin/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('atomic'))).toEqual([]);
  });
});
