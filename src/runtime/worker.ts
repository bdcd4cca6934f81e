/**
 * The inference worker: owns ONNX Runtime sessions so that `session.run`, which blocks its thread for
 * the whole inference, never blocks the caller's event loop (progress, the wizard, Ctrl-C).
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider, Feeds, SessionOptions, TensorData, ValueMeta } from './types.js';

export type WorkerRequest =
  | { op: 'create'; id: number; sid: number; source: { bytes: Uint8Array } | { path: string }; providers: ExecutionProvider[]; options: SessionOptions }
  | { op: 'run'; id: number; sid: number; feeds: Feeds; fetch?: string[] }
  | { op: 'time'; id: number; sid: number; feeds: Feeds; iterations: number }
  | { op: 'endProfiling'; id: number; sid: number }
  | { op: 'release'; id: number; sid: number };

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; kind?: 'provider' | 'session' };

const sessions = new Map<number, ort.InferenceSession>();

const LEVEL: Record<string, 'disabled' | 'basic' | 'extended' | 'all'> = { disabled: 'disabled', basic: 'basic', extended: 'extended', all: 'all' };

function sessionOptions(o: SessionOptions, provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: LEVEL[o.graphOptimizationLevel ?? 'all'] ?? 'all',
    logSeverityLevel: 3,
  };
  if (o.intraOpThreads !== undefined) opts.intraOpNumThreads = o.intraOpThreads;
  if (o.interOpThreads !== undefined) opts.interOpNumThreads = o.interOpThreads;
  if (o.optimizedModelPath) opts.optimizedModelFilePath = o.optimizedModelPath;
  if (o.profilePrefix) { opts.enableProfiling = true; opts.profileFilePrefix = o.profilePrefix; }
  if (o.config) opts.extra = { session: {}, ...nestConfig(o.config) };
  return opts;
}

/** 'session.x64quantprecision' -> { session: { x64quantprecision: '1' } } as onnxruntime-common expects. */
function nestConfig(config: Record<string, string>): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    let obj: Record<string, unknown> = out;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, unknown>;
    obj[parts[parts.length - 1]!] = value;
  }
  return out;
}

function meta(list: readonly ort.InferenceSession.ValueMetadata[]): ValueMeta[] {
  return list.map((m) => {
    const v: ValueMeta = { name: m.name };
    if (m.isTensor) {
      v.type = m.type;
      v.shape = [...m.shape];
    }
    return v;
  });
}

async function create(req: Extract<WorkerRequest, { op: 'create' }>): Promise<unknown> {
  const errors: string[] = [];
  for (const provider of req.providers) {
    try {
      const opts = sessionOptions(req.options, provider);
      const s = 'bytes' in req.source
        ? await ort.InferenceSession.create(req.source.bytes, opts)
        : await ort.InferenceSession.create(req.source.path, opts);
      sessions.set(req.sid, s);
      return {
        inputNames: [...s.inputNames],
        outputNames: [...s.outputNames],
        inputs: meta(s.inputMetadata),
        outputs: meta(s.outputMetadata),
        provider,
        failed: errors,
      };
    } catch (err) {
      errors.push(`${provider}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw Object.assign(new Error(errors.join('; ')), { kind: 'session' });
}

function toOrt(t: TensorData): ort.Tensor {
  return new ort.Tensor(t.type as never, t.data as never, t.dims);
}

async function run(req: Extract<WorkerRequest, { op: 'run' }>): Promise<{ result: Record<string, TensorData>; transfer: ArrayBuffer[] }> {
  const s = sessions.get(req.sid);
  if (!s) throw new Error(`session ${req.sid} was released`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(req.feeds)) feeds[k] = toOrt(v);
  const out = req.fetch ? await s.run(feeds, req.fetch) : await s.run(feeds);
  const result: Record<string, TensorData> = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [k, t] of Object.entries(out)) {
    const data = t.data as TensorData['data'];
    result[k] = { type: t.type as TensorData['type'], dims: [...t.dims], data };
    if (!Array.isArray(data) && data.buffer instanceof ArrayBuffer) transfer.add(data.buffer);
    t.dispose?.();
  }
  for (const t of Object.values(feeds)) t.dispose?.();
  return { result, transfer: [...transfer] };
}

/** Runs inference `iterations` times and returns each run's wall time in ms, measured here (no message overhead). */
async function time(req: Extract<WorkerRequest, { op: 'time' }>): Promise<number[]> {
  const s = sessions.get(req.sid);
  if (!s) throw new Error(`session ${req.sid} was released`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(req.feeds)) feeds[k] = toOrt(v);
  const times: number[] = [];
  for (let i = 0; i < req.iterations; i++) {
    const t0 = performance.now();
    const out = await s.run(feeds);
    times.push(performance.now() - t0);
    for (const t of Object.values(out)) t.dispose?.();
  }
  return times;
}

parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    switch (req.op) {
      case 'create':
        parentPort!.postMessage({ id: req.id, ok: true, result: await create(req) } satisfies WorkerResponse);
        break;
      case 'run': {
        const { result, transfer } = await run(req);
        parentPort!.postMessage({ id: req.id, ok: true, result } satisfies WorkerResponse, transfer);
        break;
      }
      case 'time':
        parentPort!.postMessage({ id: req.id, ok: true, result: await time(req) } satisfies WorkerResponse);
        break;
      case 'endProfiling': {
        const s = sessions.get(req.sid);
        const file = s ? (s as unknown as { endProfiling(): string | void }).endProfiling() : undefined;
        parentPort!.postMessage({ id: req.id, ok: true, result: file ?? null } satisfies WorkerResponse);
        break;
      }
      case 'release': {
        const s = sessions.get(req.sid);
        sessions.delete(req.sid);
        await s?.release();
        parentPort!.postMessage({ id: req.id, ok: true, result: null } satisfies WorkerResponse);
        break;
      }
    }
  } catch (err) {
    parentPort!.postMessage({ id: req.id, ok: false, error: (err as Error).message } satisfies WorkerResponse);
  }
});
