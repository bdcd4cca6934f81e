// Runs one ONNX model in onnxruntime-node in this process and prints its float outputs as JSON.
// Plain JavaScript so it starts quickly under CPU emulation (test/emulated/emulator.ts).
// Usage: node ort-run.mjs job.json   where job = { model, feeds: { name: { type, dims, base64 } }, config? }
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ctors = { float32: Float32Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array };
const feeds = {};
for (const [name, f] of Object.entries(job.feeds)) {
  const bytes = Buffer.from(f.base64, 'base64');
  const Ctor = ctors[f.type];
  feeds[name] = new ort.Tensor(f.type, new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT), f.dims);
}
const options = { intraOpNumThreads: 1, logSeverityLevel: 3 };
if (job.config) options.extra = { session: job.config };
const session = await ort.InferenceSession.create(job.model, options);
const out = await session.run(feeds);
const result = {};
for (const [name, t] of Object.entries(out)) result[name] = { type: t.type, dims: t.dims, values: Array.from(t.data, Number) };
process.stdout.write(JSON.stringify(result));
