/**
 * The newest model versions onnxruntime-node 1.30 loads, for checks before any work: a model
 * stamped with a newer IR version or default-domain opset fails when ONNX Runtime loads it, which
 * for `quantize --mode dynamic` (no session of the input) would only happen after the output is
 * written. Measured on the real runtime by test/runtime/ort-support.test.ts, which fails when an
 * upgrade of onnxruntime-node moves them.
 */
import type { Model } from '../ir/model.js';
import { UnsupportedOpError } from '../errors.js';
import { ortVersion } from './providers.js';

export const MAX_IR_VERSION = 13;
/** ONNX Runtime refuses opsets of the default domain newer than the last released ONNX ('under development'). */
export const MAX_DEFAULT_OPSET = 26;

export function checkRuntimeSupport(model: Model, label = model.label()): void {
  if (model.irVersion > MAX_IR_VERSION) {
    throw new UnsupportedOpError(`${label}: IR version ${model.irVersion} is newer than ONNX Runtime ${ortVersion()} reads (up to ${MAX_IR_VERSION}); re-export the model with an older ONNX version`);
  }
  const opset = model.opset('');
  if (opset !== undefined && opset > MAX_DEFAULT_OPSET) {
    throw new UnsupportedOpError(`${label}: opset ${opset} of the default ONNX domain is newer than ONNX Runtime ${ortVersion()} supports (up to ${MAX_DEFAULT_OPSET}); re-export the model with an older opset`);
  }
}
