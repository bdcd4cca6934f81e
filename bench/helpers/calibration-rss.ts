/**
 * Child process for the calibration benchmark's memory check: calibrates MODEL on the first N
 * samples of DATA with METHOD and prints one JSON line with the peak resident set (VmHWM).
 * Usage: tsx bench/helpers/calibration-rss.ts MODEL DATA N METHOD
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/onnx/io.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { Engine } from '../../src/runtime/engine.js';

function vmHwmKiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const [modelPath, dataPath, n, method] = process.argv.slice(2);
const engine = new Engine({ intraOpThreads: 1, interOpThreads: 1 });
const before = vmHwmKiB();
const result = await calibrate(loadModel(modelPath!), dataPath!, { engine, method: method as 'entropy', limit: Number(n) });
await engine.close();
process.stdout.write(`${JSON.stringify({ samples: result.samples, tensors: result.ranges.size, peakKiB: vmHwmKiB(), startKiB: before })}\n`);
