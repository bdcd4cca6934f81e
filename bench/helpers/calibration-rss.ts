/**
 * Child process for the calibration benchmark's memory check: calibrates MODEL on the first N
 * samples of DATA with METHOD and prints one JSON line with the peak resident set (VmHWM).
 * Usage: tsx bench/helpers/calibration-rss.ts MODEL DATA N METHOD
 * MODEL 'segmentation1024' is the megapixel fixture built in memory (fixtures/megapixel), and DATA
 * 'random' feeds it N random images generated one at a time (no data file, nothing kept).
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/onnx/io.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { Engine } from '../../src/runtime/engine.js';
import { IterableDataset } from '../../src/calibrate/data/iterable.js';
import { buildSegmentation, randomImageFeeds } from '../../fixtures/megapixel/segmentation.js';

function vmHwmKiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const [modelPath, dataPath, n, method] = process.argv.slice(2);
const count = Number(n);
const engine = new Engine({ intraOpThreads: 1, interOpThreads: 1 });
const before = vmHwmKiB();
const model = modelPath === 'segmentation1024' ? buildSegmentation() : loadModel(modelPath!);
const data = dataPath === 'random'
  ? await IterableDataset.open(function* images() { for (let i = 0; i < count; i++) yield randomImageFeeds(i); }, { size: count, name: `${count} random images` })
  : dataPath!;
const t0 = performance.now();
const result = await calibrate(model, data, { engine, method: method as 'entropy', limit: count });
const seconds = (performance.now() - t0) / 1000;
await engine.close();
process.stdout.write(`${JSON.stringify({ samples: result.samples, tensors: result.ranges.size, peakKiB: vmHwmKiB(), startKiB: before, seconds, notes: result.notes })}\n`);
