/**
 * How a command saves the model it derived from the one at a path, the same in `slimnet quantize`
 * and in pipeline steps: a model that keeps its weights outside (external data) is saved the same
 * way (<output>.data), which its users load and which streams tensor by tensor instead of building
 * one protobuf of all the weights; and weight-only quantization of such a model parks each
 * quantized tensor in a spill file next to the output until the save copies it, so memory holds a
 * few layers, not the model.
 */
import type { Model } from '../src/ir/model.js';
import type { SaveOptions } from '../src/onnx/io.js';
import { SpillFile } from '../src/onnx/spill.js';
import { modelFiles } from '../src/eval/hash.js';

export function saveLike(model: Model, path: string): SaveOptions {
  return modelFiles(model, path).length > 1 ? { externalData: true } : {};
}

/** The spill file for weight-only on a model saved with external data (dispose it after the save). */
export function spillFor(mode: string | undefined, save: SaveOptions, output: string): SpillFile | undefined {
  return mode === 'weight-only' && save.externalData ? new SpillFile(output) : undefined;
}
