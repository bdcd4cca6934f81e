/**
 * The inference worker: owns ONNX Runtime sessions so that `session.run`, which blocks its thread for
 * the whole inference, never blocks the caller's event loop (progress, the wizard, Ctrl-C).
 * This is the onnxruntime-node worker; wasm-worker.ts hosts onnxruntime-web the same way.
 */
import * as ort from 'onnxruntime-node';
import { hostSessions, nestConfig, type CreateRequest, type HostSession } from './session-host.js';
import type { ExecutionProvider, SessionOptions, TensorData } from './types.js';

export type { WorkerRequest, WorkerResponse } from './protocol.js';

const LEVEL: Record<string, 'disabled' | 'basic' | 'extended' | 'all'> = { disabled: 'disabled', basic: 'basic', extended: 'extended', all: 'all' };

function sessionOptions(o: SessionOptions, provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: LEVEL[o.graphOptimizationLevel ?? 'all'] ?? 'all',
    // Fatal only: a failing run is reported once, by slimnet, as one line (ORT would also print it).
    logSeverityLevel: 4,
  };
  if (o.intraOpThreads !== undefined) opts.intraOpNumThreads = o.intraOpThreads;
  if (o.interOpThreads !== undefined) opts.interOpNumThreads = o.interOpThreads;
  if (o.optimizedModelPath) opts.optimizedModelFilePath = o.optimizedModelPath;
  if (o.profilePrefix) { opts.enableProfiling = true; opts.profileFilePrefix = o.profilePrefix; }
  if (o.config) opts.extra = { session: {}, ...nestConfig(o.config) };
  return opts;
}

async function create(req: CreateRequest): Promise<{ session: HostSession; provider: ExecutionProvider; failed: string[] }> {
  const errors: string[] = [];
  for (const provider of req.providers) {
    try {
      const opts = sessionOptions(req.options, provider);
      const s = 'bytes' in req.source
        ? await ort.InferenceSession.create(req.source.bytes, opts)
        : await ort.InferenceSession.create(req.source.path, opts);
      return { session: s, provider, failed: errors };
    } catch (err) {
      errors.push(`${provider}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw Object.assign(new Error(errors.join('; ')), { kind: 'session' });
}

hostSessions({
  create,
  tensor: (t: TensorData) => new ort.Tensor(t.type as never, t.data as never, t.dims),
  endProfiling: (s) => (s as unknown as { endProfiling(): string | void }).endProfiling() ?? undefined,
});
