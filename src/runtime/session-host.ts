/**
 * The part of a worker that does not depend on which ONNX Runtime package it hosts: the session
 * table and the run/time/release/endProfiling requests. worker.ts (onnxruntime-node) and
 * wasm-worker.ts (onnxruntime-web) each supply how to create a session and how to build an input
 * tensor; both packages implement onnxruntime-common's InferenceSession, described here by the
 * few members slimnet uses, so this file imports neither of them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { collectGarbage } from './collect-garbage.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';
import type { ExecutionProvider, TensorData, ValueMeta } from './types.js';

/** Encoded models this large are collected as soon as a session has been made of them. */
const LARGE_MODEL_BYTES = 64 * 2 ** 20;

/** An onnxruntime-common Tensor, as far as the host uses it. */
export interface HostTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

interface ValueMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: unknown;
  readonly shape?: readonly (number | string)[];
}

/** An onnxruntime-common InferenceSession, as far as the host uses it. */
export interface HostSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadataLike[];
  readonly outputMetadata: readonly ValueMetadataLike[];
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  run(feeds: Record<string, HostTensor>, fetches: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export type CreateRequest = Extract<WorkerRequest, { op: 'create' }>;

export interface Backend {
  /** Creates the session on the first provider that works; `failed` lists the ones that did not. */
  create(req: CreateRequest): Promise<{ session: HostSession; provider: ExecutionProvider; failed: string[] }>;
  /** Wraps plain data as the package's Tensor. */
  tensor(t: TensorData): HostTensor;
  /** Ends profiling and returns the profile file, or refuses when the runtime cannot profile. */
  endProfiling(session: HostSession): string | undefined;
}

/** 'session.x64quantprecision' -> { session: { x64quantprecision: '1' } } as onnxruntime-common expects. */
export function nestConfig(config: Record<string, string>): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    let obj: Record<string, unknown> = out;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, unknown>;
    obj[parts[parts.length - 1]!] = value;
  }
  return out;
}

function meta(list: readonly ValueMetadataLike[]): ValueMeta[] {
  return list.map((m) => {
    const v: ValueMeta = { name: m.name };
    if (m.isTensor) {
      v.type = m.type as string;
      v.shape = [...(m.shape ?? [])];
    }
    return v;
  });
}

/**
 * Cancellation, shared with the Engine: it sets the flag (from the main thread, while this thread
 * may be inside ONNX Runtime) and this thread starts no further native call once it is set. The
 * Engine must not terminate a thread that is inside onnxruntime-node: the addon's N-API calls
 * then fail with a C++ exception nothing catches, and the whole process aborts. So a cancelled
 * worker finishes the call it is in, refuses the next ones, and the Engine terminates it idle.
 */
const control: Int32Array | undefined = (workerData as { control?: SharedArrayBuffer } | null)?.control
  ? new Int32Array((workerData as { control: SharedArrayBuffer }).control)
  : undefined;

class Cancelled extends Error {}

/** Throws before a native call once the Engine has cancelled this worker. */
function beforeNativeCall(): void {
  if (control && Atomics.load(control, 0) !== 0) throw new Cancelled('cancelled');
}

/** Serves one Engine's requests on this worker thread until the Engine terminates it. */
export function hostSessions(backend: Backend): void {
  const sessions = new Map<number, HostSession>();

  const session = (sid: number): HostSession => {
    const s = sessions.get(sid);
    if (!s) throw new Error(`session ${sid} was released`);
    return s;
  };

  const toFeeds = (feeds: Record<string, TensorData>): Record<string, HostTensor> => {
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(feeds)) out[k] = backend.tensor(v);
    return out;
  };

  async function create(req: CreateRequest): Promise<unknown> {
    beforeNativeCall();
    const { session: s, provider, failed } = await backend.create(req);
    sessions.set(req.sid, s);
    return {
      inputNames: [...s.inputNames],
      outputNames: [...s.outputNames],
      inputs: meta(s.inputMetadata),
      outputs: meta(s.outputMetadata),
      provider,
      failed,
    };
  }

  async function run(req: Extract<WorkerRequest, { op: 'run' }>): Promise<{ result: Record<string, TensorData>; transfer: ArrayBuffer[] }> {
    const s = session(req.sid);
    const feeds = toFeeds(req.feeds);
    beforeNativeCall();
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
    const s = session(req.sid);
    const feeds = toFeeds(req.feeds);
    const times: number[] = [];
    for (let i = 0; i < req.iterations; i++) {
      beforeNativeCall();
      const t0 = performance.now();
      const out = await s.run(feeds);
      times.push(performance.now() - t0);
      for (const t of Object.values(out)) t.dispose?.();
    }
    return times;
  }

  /**
   * The encoded model is garbage once the runtime has its own copy, but this thread allocates
   * little JS memory, so V8 could keep it for a long time: a 1B decoder's parts (180-450 MB each,
   * encoded twice per part) piled up to a GB here. A large one is let go and collected at once.
   */
  const releaseModelBytes = (req: Extract<WorkerRequest, { op: 'create' }>) => {
    if (!('bytes' in req.source) || req.source.bytes.byteLength < LARGE_MODEL_BYTES) return;
    (req.source as { bytes?: Uint8Array }).bytes = undefined;
    collectGarbage();
  };

  const reply = (msg: WorkerResponse, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(msg, transfer);

  parentPort!.on('message', async (req: WorkerRequest) => {
    try {
      switch (req.op) {
        case 'create': {
          const result = await create(req);
          // The runtime has its own copy now: the Engine's reusable buffer goes back to it.
          const back = req.returnBytes && 'bytes' in req.source ? req.source.bytes.buffer as ArrayBuffer : undefined;
          reply({ id: req.id, ok: true, result: back ? { ...result as object, returned: back } : result }, back ? [back] : []);
          if (!back) releaseModelBytes(req);
          break;
        }
        case 'run': {
          const { result, transfer } = await run(req);
          reply({ id: req.id, ok: true, result }, transfer);
          break;
        }
        case 'time':
          reply({ id: req.id, ok: true, result: await time(req) });
          break;
        case 'endProfiling': {
          const s = sessions.get(req.sid);
          reply({ id: req.id, ok: true, result: (s && backend.endProfiling(s)) ?? null });
          break;
        }
        case 'release': {
          const s = sessions.get(req.sid);
          sessions.delete(req.sid);
          await s?.release();
          reply({ id: req.id, ok: true, result: null });
          break;
        }
      }
    } catch (err) {
      reply({ id: req.id, ok: false, error: (err as Error).message, ...(err instanceof Cancelled ? { kind: 'cancelled' as const } : {}) });
    }
  });
}
