/**
 * Random inputs for a model when the user has no data: SAMPLES feeds of batch 1, floats uniform in
 * [-1, 1) from a fixed seed. Good enough to run every step; the accuracy they show means nothing,
 * which the wizard says wherever they are used.
 */
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import { DataType } from '../../src/ir/data-type.js';
import { DataError } from '../../src/errors.js';
import { mulberry32 } from '../../src/random.js';

export const RANDOM_SAMPLES = 32;

/** An array (so it can be read more than once) of random feeds shaped like the model's inputs. */
export function randomData(model: Model, samples = RANDOM_SAMPLES): Feeds[] {
  const rand = mulberry32(1234);
  const inputs = model.graph.inputs.filter((i) => !i.isInitializer);
  for (const input of inputs) {
    if (input.elemType !== DataType.FLOAT) throw new DataError(`random data covers float32 inputs only; input '${input.name}' is not float32: give a data file`);
    if (!input.shape) throw new DataError(`input '${input.name}' has no declared shape, so random data cannot be shaped: give a data file`);
  }
  return Array.from({ length: samples }, () => {
    const feeds: Feeds = {};
    for (const input of inputs) {
      // Symbolic dimensions (batch, sequence) become 1.
      const dims = input.shape!.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
      feeds[input.name] = { type: 'float32', dims, data };
    }
    return feeds;
  });
}
