/** Model-local functions, sparse initializers, training info and other rarely used fields survive a round trip. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxTypes } from '../../src/onnx/schema.js';
import { loadModelFromBytes, modelToBytes, saveModel } from '../../src/onnx/io.js';
import { inspectModel } from '../../src/inspect/inspect.js';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { bitwiseEqual } from '../helpers.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';

const engine = new Engine({ intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'slimnet-extras-'));
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);

/** A model built directly as protobuf: a local function, a sparse initializer, training info, doc strings. */
function exoticModel(): Uint8Array {
  const M = onnxTypes().ModelProto;
  const msg = {
    ir_version: 10,
    producer_name: 'hand-written',
    doc_string: 'model doc',
    opset_import: [{ domain: '', version: 18 }, { domain: 'custom.fn', version: 1 }],
    metadata_props: [{ key: 'k', value: 'v' }],
    functions: [{
      name: 'ScaleShift', domain: 'custom.fn', input: ['X', 'S'], output: ['Y'], attribute: [],
      opset_import: [{ domain: '', version: 18 }],
      node: [
        { op_type: 'Mul', input: ['X', 'S'], output: ['t'], name: 'fn_mul' },
        { op_type: 'Constant', input: [], output: ['one'], attribute: [{ name: 'value_float', type: 1, f: 1 }] },
        { op_type: 'Add', input: ['t', 'one'], output: ['Y'], name: 'fn_add' },
      ],
      doc_string: 'x * s + 1',
    }],
    graph: {
      name: 'g',
      doc_string: 'graph doc',
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n', denotation: 'DATA_BATCH' }, { dim_value: 4 }] } } }, doc_string: 'the input' }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }],
      initializer: [{ name: 's', data_type: 1, dims: [4], raw_data: f32([1, 2, 3, 4]) }],
      sparse_initializer: [{ values: { name: 'sp', data_type: 1, dims: [2], raw_data: f32([5, 6]) }, indices: { name: 'sp_idx', data_type: 7, dims: [2], int64_data: [1, 3] }, dims: [4] }],
      node: [
        { op_type: 'ScaleShift', domain: 'custom.fn', input: ['x', 's'], output: ['h'], name: 'call', doc_string: 'calls the function' },
        { op_type: 'Add', input: ['h', 'sp'], output: ['y'], name: 'add_sparse' },
      ],
      value_info: [{ name: 'h', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }, { dim_value: 4 }] } } } }],
    },
    training_info: [{ algorithm: { name: 'train', node: [{ op_type: 'Identity', input: ['s'], output: ['s_new'] }], output: [{ name: 's_new' }] }, update_binding: [{ key: 's', value: 's_new' }] }],
  };
  return M.encode(M.fromObject(msg)).finish();
}

describe('rare fields', () => {
  it('runs and round-trips a model-local function, a sparse initializer and training info', async () => {
    const bytes = exoticModel();
    const model = loadModelFromBytes(bytes);
    expect(model.functions).toHaveLength(1);
    expect(model.functions[0]!.body.nodes.map((n) => n.opType)).toEqual(['Mul', 'Constant', 'Add']);
    expect(model.graph.sparseInitializers).toHaveLength(1);
    const rt = modelToBytes(model);
    const again = loadModelFromBytes(rt);
    expect(again.functions[0]!.docString).toBe('x * s + 1');
    expect(again.graph.inputs[0]!.docString).toBe('the input');
    expect((again.graph.inputs[0]!.type as { dimDenotations?: string[] }).dimDenotations?.[0]).toBe('DATA_BATCH');
    expect(again.passthrough.training_info).toBeDefined();
    expect(again.graph.nodes[0]!.docString).toBe('calls the function');
    const M = onnxTypes().ModelProto;
    const obj = M.toObject(M.decode(rt), { longs: Number }) as { training_info: { update_binding: { key: string }[] }[] };
    expect(obj.training_info[0]!.update_binding[0]!.key).toBe('s');
    const feeds = { x: { type: 'float32' as const, dims: [2, 4], data: Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2) } };
    const [a, b] = [await engine.createSession(model), await engine.createSession(again)];
    const [oa, ob] = [await a.run(feeds), await b.run(feeds)];
    // x*s + 1 + sparse([0,5,0,6])
    expect(Array.from(oa.y!.data as Float32Array)).toEqual([2, 8, 4, 11, 3, 10, 7, 15]);
    expect(bitwiseEqual(oa.y!, ob.y!)).toBe(true);
  });

  it('inspect lists external data files and counts function bodies', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 256]);
    b.output(b.op('MatMul', [x, b.floats('w', [256, 256], new Float32Array(65536).fill(0.5))]));
    const path = join(dir, 'ext.onnx');
    saveModel(b.model, path, { externalData: true });
    const r = inspectModel(loadModel(path), path);
    expect(r.externalData).toEqual([{ file: 'ext.onnx.data', tensors: 1, bytes: 262144 }]);
    expect(r.parameters.floatElements).toBe(65536);
    const fn = inspectModel(loadModelFromBytes(exoticModel()));
    expect(fn.functions).toEqual([{ domain: 'custom.fn', name: 'ScaleShift', nodes: 3 }]);
    // s (4) + the sparse values (2) are float weights; the function's Constant is a scalar.
    expect(fn.parameters.floatElements).toBe(4 + 2 + 1);
  });
});
