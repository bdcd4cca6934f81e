/** The newest IR version and opset slimnet lets through are exactly what onnxruntime-node loads. */
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/runtime/engine.js';
import { loadModelFromBytes } from '../../src/onnx/io.js';
import { MAX_DEFAULT_OPSET, MAX_IR_VERSION, checkRuntimeSupport } from '../../src/runtime/ort-support.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { baseMessage, encodeMessage } from '../../fixtures/hostile/base.js';

const engine = new Engine();
afterAll(() => engine.close());

function stamped(ir: number, opset: number) {
  const m = baseMessage();
  m.ir_version = ir;
  m.opset_import = [{ domain: '', version: opset }];
  return loadModelFromBytes(encodeMessage(m), { source: `ir${ir}-opset${opset}` });
}

describe('ONNX Runtime version support', () => {
  it(`loads IR ${MAX_IR_VERSION} and opset ${MAX_DEFAULT_OPSET}, refuses one more of either, as checkRuntimeSupport says`, async () => {
    const newest = stamped(MAX_IR_VERSION, MAX_DEFAULT_OPSET);
    checkRuntimeSupport(newest);
    await (await engine.createSession(newest)).release();
    for (const [ir, opset] of [[MAX_IR_VERSION + 1, MAX_DEFAULT_OPSET], [MAX_IR_VERSION, MAX_DEFAULT_OPSET + 1]] as const) {
      const m = stamped(ir, opset);
      expect(() => checkRuntimeSupport(m)).toThrow(UnsupportedOpError);
      // ONNX Runtime itself refuses it too, and its message comes out as the same kind of error.
      await expect(engine.createSession(m)).rejects.toThrow(UnsupportedOpError);
    }
  });
});
