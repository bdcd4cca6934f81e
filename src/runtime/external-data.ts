/**
 * The external data files a model file refers to, for onnxruntime-web: unlike onnxruntime-node it
 * does not look next to the model, so every data file must be handed to it by name.
 */
import { loadModel } from '../onnx/io.js';
import { forEachTensor } from '../onnx/tensors.js';
import type { ExternalDataFile } from './protocol.js';

/**
 * Decodes the model (external tensors are not read; loadModel checks that each data file exists and
 * is long enough, naming it if not) and lists each data file once: `path` as the model writes the
 * location, `data` its absolute path on disk.
 */
export function externalDataFiles(modelPath: string): ExternalDataFile[] {
  const files = new Map<string, string>();
  forEachTensor(loadModel(modelPath), (t) => {
    const ext = t.externalLocation;
    if (ext && t.isExternal) files.set(ext.location, ext.path);
  });
  return [...files].map(([path, data]) => ({ path, data }));
}
