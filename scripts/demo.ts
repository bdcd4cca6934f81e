/**
 * `npm run demo`: quantizes a bundled trained model end to end and shows what changed: the
 * quantization report, then float32 vs int8 accuracy on the test set and latency (batch 1, 1 thread,
 * interleaved runs). Writes the int8 model to a temporary directory.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../src/onnx/io.js';
import { Engine } from '../src/runtime/engine.js';
import { quantize } from '../src/quantize/quantize.js';
import { countDecisions, formatQuantizeReport } from '../src/quantize/report.js';
import { measureInterleaved } from '../src/eval/latency.js';
import { NpzFile } from '../src/calibrate/data/npz.js';
import { top1 } from '../bench/lib/top1.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const rel = (p: string) => relative(process.cwd(), p) || p;
const name = process.argv[2] ?? 'resnet_bn';
const modelPath = join(root, 'fixtures', 'models', `${name}.onnx`);
const calib = join(root, 'fixtures', 'data', 'fmnist_calib.npz');
const test = join(root, 'fixtures', 'data', 'fmnist_test.npz');
const out = join(mkdtempSync(join(tmpdir(), 'slimnet-demo-')), `${name}.int8.onnx`);

const engine = new Engine({ intraOpThreads: 1 });
try {
  console.log(`slimnet demo: static int8 quantization of ${rel(modelPath)} (trained on Fashion-MNIST)\n`);
  const model = loadModel(modelPath);
  const t0 = performance.now();
  const result = await quantize(model, { calibration: calib, engine, onProgress: (e) => { if (e.message) console.log(`  ${e.message}...`); } });
  const seconds = (performance.now() - t0) / 1000;
  const saved = saveModel(result.model, out);
  console.log('');
  console.log(formatQuantizeReport({
    schema: 'slimnet.quantize/1',
    input: { path: rel(modelPath), bytes: statSync(modelPath).size },
    output: { path: out, bytes: saved.bytes },
    mode: 'static',
    settings: result.settings,
    calibration: { ...result.calibration, source: rel(result.calibration.source) },
    counts: countDecisions(result.summary),
    summary: result.summary,
    ...(result.speedCheck ? { speedCheck: result.speedCheck } : {}),
  }));
  console.log(`(quantized in ${seconds.toFixed(1)} s)\n`);

  const [a, b] = [await top1(engine, model, test), await top1(engine, result.model, test)];
  const images = NpzFile.open(test).get('input');
  console.log(`Accuracy on ${rel(test)} (${images.dims[0]} images): float32 ${(a * 100).toFixed(2)}%, int8 ${(b * 100).toFixed(2)}% (drop ${((a - b) * 100).toFixed(2)} points)`);
  const one = { input: { type: 'float32' as const, dims: [1, ...images.dims.slice(1)], data: (images.data as Float32Array).slice(0, 784) } };
  const [f, q] = await measureInterleaved([model, result.model], one, { engine, runs: 200, warmup: 20 });
  console.log(`Latency (batch 1, 1 thread, median of 200 interleaved runs): float32 ${f!.medianMs.toFixed(3)} ms, int8 ${q!.medianMs.toFixed(3)} ms (${(f!.medianMs / q!.medianMs).toFixed(2)}x)`);
  console.log('This model is tiny (28x28 inputs), so fixed per-op costs dominate; `npm run bench static-int8` times a ResNet-50.');
  console.log(`\nThe int8 model: ${out}\nSame from the command line: npx slimnet quantize ${rel(modelPath)} -o ${name}.int8.onnx --calib ${rel(calib)}`);
} finally {
  await engine.close();
}
