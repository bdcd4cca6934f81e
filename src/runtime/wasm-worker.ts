/**
 * The wasm inference worker: onnxruntime-web's WebAssembly backend on a worker thread, for an
 * Engine with `runtime: 'wasm'`. It speaks the same protocol as worker.ts (onnxruntime-node) and
 * never loads onnxruntime-node. In Node, `import 'onnxruntime-web'` resolves to ort.node.min.mjs,
 * which loads dist/ort-wasm-simd-threaded.{mjs,wasm}: the plain SIMD128 build that
 * 'onnxruntime-web/wasm' also loads in browsers (no JSEP/WebGPU, no relaxed SIMD).
 */
import { setFlagsFromString } from 'node:v8';
import * as ort from 'onnxruntime-web';
import { hostSessions, nestConfig, type CreateRequest, type HostSession } from './session-host.js';
import type { SessionOptions, TensorData } from './types.js';

/**
 * onnxruntime-web reads env.wasm once, when the first session starts the wasm module; the Engine
 * checks that later sessions do not ask for another thread count.
 *
 * V8 first runs wasm in Liftoff, its baseline compiler, and moves hot functions to TurboFan on
 * background threads as they run. Measured on ORT 1.30 / Node 20 with 2 busy cores, a model's
 * runs took 3-15x their steady time for the first ~100 runs and were still 20-100% off after 200
 * (ResNet fixture: 14 ms, then 0.45 ms, vs 0.38 ms steady), so timings taken by a placement search
 * would compare baseline code (docs/research/ort-web-wasm.md). Compiling with TurboFan only (still
 * lazily, per function on first call) makes the second run steady, for a slower start (3-6 s more
 * here). The flag is process-wide; it only changes how WebAssembly is compiled.
 */
function initialize(threads: number): void {
  setFlagsFromString('--no-liftoff');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  // Its own worker proxy would add a second hop; this thread already keeps the caller's loop free.
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
}

let started = false;

function sessionOptions(o: SessionOptions, req: CreateRequest): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: ['wasm'],
    graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
    // Fatal only: a failing run is reported once, by slimnet, as one line (ORT would also print it).
    logSeverityLevel: 4,
  };
  // onnxruntime-web flattens `extra` back into 'a.b' keys and adds each as a session config entry.
  if (o.config) opts.extra = nestConfig(o.config);
  if (req.externalData?.length) opts.externalData = req.externalData.map((f) => ({ path: f.path, data: f.data }));
  return opts;
}

async function create(req: CreateRequest): Promise<{ session: HostSession; provider: 'wasm'; failed: string[] }> {
  if (!started) {
    initialize(req.options.intraOpThreads ?? 1);
    started = true;
  }
  const opts = sessionOptions(req.options, req);
  // A path is read by onnxruntime-web itself (node:fs); bytes were transferred here by the Engine.
  const s = 'bytes' in req.source
    ? await ort.InferenceSession.create(req.source.bytes, opts)
    : await ort.InferenceSession.create(req.source.path, opts);
  return { session: s, provider: 'wasm', failed: [] };
}

hostSessions({
  create,
  tensor: (t: TensorData) => new ort.Tensor(t.type as never, t.data as never, t.dims),
  // The Engine refuses profiling before a wasm session exists; this is never reached with a profile.
  endProfiling: () => undefined,
});
