/**
 * The Engine: ONNX Runtime sessions on a worker thread. This directory is the only place that
 * touches onnxruntime-node and onnxruntime-web; the rest of slimnet sees Engine, Session and
 * TensorData. The runtime ('node' or 'wasm') only changes which worker module hosts the sessions
 * and what a session may ask for; the protocol and the Session object are the same.
 */
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Model } from '../ir/model.js';
import { loadModel } from '../onnx/io.js';
import { removeOnExit } from '../onnx/atomic-write.js';
import { RuntimeError, OptionError, CancelledError, SlimnetError } from '../errors.js';
import { runErrorMessage, sessionLoadError } from './ort-errors.js';
import { isInterrupted, onInterrupt } from './interrupt.js';
import { prepareModel } from './model-source.js';
import { EncodeBuffer } from './encode-buffer.js';
import { KNOWN_PROVIDERS, providerStatus } from './providers.js';
import { checkWasmOptions, checkWasmThreads, wasmProviders } from './wasm-options.js';
import { externalDataFiles } from './external-data.js';
import type { ExternalDataFile, ModelSource, WorkerRequest, WorkerResponse } from './protocol.js';
import type { EngineOptions, ExecutionProvider, Feeds, ProviderStatus, Runtime, Session, SessionInfo, SessionOptions, TensorData } from './types.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
/** A request the worker has not answered yet; `settled` once its caller was answered early (cancelled). */
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; settled: boolean };

export interface CreateSessionOptions extends SessionOptions {
  /** Intermediate tensors to fetch too (added as outputs on a copy of the model). */
  extraOutputs?: string[];
}

let nextEngineId = 0;
/** Engines with a live worker, so an interrupt can stop them before the process exits. */
const liveEngines = new Set<Engine>();
onInterrupt(() => { for (const e of liveEngines) e.cancel(); });

/** The module each runtime's worker runs; each imports only its own ONNX Runtime package. */
const WORKER_MODULE: Record<Runtime, string> = { node: 'worker', wasm: 'wasm-worker' };

/**
 * From compiled JavaScript the worker is worker.js (wasm-worker.js). From TypeScript sources (tests,
 * `npm run slimnet`) it is loaded through tsx's scoped loader, since worker threads do not inherit it.
 */
function spawnWorker(runtime: Runtime, control: SharedArrayBuffer): Worker {
  const name = WORKER_MODULE[runtime];
  const workerData = { control };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // tsx's ESM API (index.mjs beside the CommonJS entry that require.resolve finds).
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const workerUrl = new URL(`./${name}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(workerUrl)}, ${JSON.stringify(workerUrl)}));`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Feeds whose arrays are views into a larger buffer (one sample of a whole data set) are copied
 * first: posting a view to the worker clones its entire buffer. Besides the waste, that copy (6 MB
 * for one Fashion-MNIST test image) flushed the CPU caches right before each timed run and made a
 * 0.1 ms model run 2x slower, int8 and float unevenly.
 */
export function compactFeeds(feeds: Feeds): Feeds {
  let out: Feeds | undefined;
  for (const [k, v] of Object.entries(feeds)) {
    const d = v.data as ArrayBufferView;
    if (ArrayBuffer.isView(d) && d.byteLength !== d.buffer.byteLength) {
      out ??= { ...feeds };
      out[k] = { ...v, data: (d as unknown as { slice(): TensorData['data'] }).slice() };
    }
  }
  return out ?? feeds;
}

export class Engine {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextSid = 1;
  private liveSessions = 0;
  /** Reused for the encoded models sent to the worker (encode-buffer.ts). */
  private readonly encodeBuffer = new EncodeBuffer();
  readonly id = nextEngineId++;
  /** Which ONNX Runtime package hosts this engine's sessions. */
  readonly runtime: Runtime;
  private readonly defaults: SessionOptions;
  /** The wasm module's thread count, fixed by the first wasm session (see Runtime). */
  private wasmThreads: number | undefined;
  /** A node engine for what onnxruntime-web cannot do (writing ORT's optimized graph). */
  private nodeHelper: Engine | undefined;
  /** Set once cancelled (AbortSignal, Ctrl-C): no request is sent after that. */
  private cancelled: CancelledError | undefined;
  /** Shared with the worker: [0] = 1 asks it to start no further native call. */
  private readonly control = new SharedArrayBuffer(4);
  /** Resolved whenever the worker has answered every request (see close). */
  private idleWaiters: (() => void)[] = [];

  /**
   * `options` are the defaults of every session, plus `runtime`: 'node' (default, onnxruntime-node)
   * or 'wasm' (onnxruntime-web's WebAssembly backend, e.g. `new Engine({ runtime: 'wasm' })`).
   */
  constructor(options: EngineOptions = {}) {
    const { runtime = 'node', signal, ...defaults } = options;
    this.runtime = runtime;
    this.defaults = defaults;
    if (signal) {
      if (signal.aborted) this.cancel();
      else signal.addEventListener('abort', () => this.cancel(), { once: true });
    }
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker(this.runtime, this.control);
    w.on('message', (msg: WorkerResponse) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (!p.settled) {
        if (msg.ok) p.resolve(msg.result);
        else if (msg.kind === 'cancelled' || this.cancelled) p.reject(this.cancelled ?? new CancelledError('inference cancelled'));
        else p.reject(new RuntimeError(runErrorMessage(msg.error)));
      }
      this.updateRef();
      this.notifyIdle();
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) if (!p.settled) p.reject(this.cancelled ?? new RuntimeError(`ONNX Runtime worker failed: ${err.message}`));
      this.pending.clear();
      this.worker = null;
      this.notifyIdle();
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (this.pending.size) fail(new Error(`exited with code ${code}`)); this.worker = null; liveEngines.delete(this); });
    this.worker = w;
    liveEngines.add(this);
    this.updateRef();
    return w;
  }

  private notifyIdle(): void {
    if (this.pending.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once the worker has answered every request, i.e. is not inside ONNX Runtime. */
  private idle(): Promise<void> {
    if (this.pending.size === 0 || !this.worker) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops this engine's work: callers waiting on a request get a CancelledError now, nothing new
   * is sent, and the worker starts no further native call (a run or a timing loop in progress
   * ends after the inference it is in). close() then waits for that inference and stops the
   * worker. Called by an AbortSignal given to the constructor, and for every engine on Ctrl-C.
   */
  cancel(reason = 'inference cancelled'): void {
    if (this.cancelled) return;
    this.cancelled = new CancelledError(reason);
    Atomics.store(new Int32Array(this.control), 0, 1);
    for (const p of this.pending.values()) {
      if (p.settled) continue;
      p.settled = true;
      p.reject(this.cancelled);
    }
    this.nodeHelper?.cancel(reason);
    this.updateRef();
  }

  /**
   * The worker keeps the process alive only while a request is in flight, answered early or not:
   * a process that ends while its worker is inside ONNX Runtime aborts (see session-host.ts).
   */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private request<T>(req: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (isInterrupted() && !this.cancelled) this.cancel('interrupted');
    if (this.cancelled) {
      // Sessions die with the worker; releasing them is nothing to wait for.
      if (req.op === 'release') return Promise.resolve(null as T);
      return Promise.reject(this.cancelled);
    }
    const w = this.startWorker();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, settled: false });
      this.updateRef();
      try {
        w.postMessage({ ...req, id }, transfer);
      } catch (err) {
        // Not sent (a value that cannot be cloned): nothing will answer, so nothing may wait.
        this.pending.delete(id);
        this.updateRef();
        reject(err);
      }
    });
  }

  /** Static provider availability (libraries present, platform). The wasm runtime has 'wasm' only. */
  providers(): ProviderStatus[] {
    if (this.runtime === 'wasm') return [{ name: 'wasm', available: true }];
    return KNOWN_PROVIDERS.map(providerStatus);
  }

  /** Providers to try, in order, and notes about the ones skipped. */
  private resolveProviders(opts: SessionOptions): { usable: ExecutionProvider[]; notes: string[] } {
    if (this.runtime === 'wasm') return wasmProviders(opts.providers?.length ? opts.providers : ['wasm'], !!opts.strictProviders);
    const requested = opts.providers?.length ? opts.providers : ['cpu' as const];
    const notes: string[] = [];
    const usable: ExecutionProvider[] = [];
    for (const p of requested) {
      const st = providerStatus(p);
      if (st.available) usable.push(p);
      else if (opts.strictProviders) throw new OptionError(`execution provider '${p}' is not available: ${st.reason}`);
      else notes.push(`execution provider '${p}' skipped: ${st.reason}`);
    }
    if (usable.length === 0) {
      throw new OptionError(`none of the requested execution providers is available (${requested.join(', ')}): ${notes.join('; ')}`);
    }
    return { usable, notes };
  }

  /**
   * Wasm sessions: fixes the module's thread count on the first session, and lists the external
   * data files of a model file (onnxruntime-web does not find them by itself).
   */
  private prepareWasm(opts: SessionOptions, source: ModelSource): { options: SessionOptions; externalData: ExternalDataFile[] } {
    this.wasmThreads = checkWasmThreads(this.wasmThreads, opts.intraOpThreads);
    const externalData = 'path' in source ? externalDataFiles(source.path) : [];
    return { options: { ...opts, intraOpThreads: this.wasmThreads }, externalData };
  }

  /**
   * Creates a session from an IR model or a model file. Providers are tried in order; one that is
   * not installed or fails to initialize is skipped with a note in `info.notes`, or, with
   * `strictProviders`, raises an error that says how to install it.
   */
  async createSession(model: Model | string, options: CreateSessionOptions = {}): Promise<Session> {
    const opts: CreateSessionOptions = { ...this.defaults, ...options };
    const { usable, notes } = this.resolveProviders(opts);
    // Before encoding anything: options onnxruntime-web cannot honour are refused, not dropped.
    if (this.runtime === 'wasm') checkWasmOptions(opts);
    let source: ModelSource;
    let aliases = new Map<string, string>();
    let cleanup = () => {};
    if (typeof model === 'string' && !opts.extraOutputs?.length) {
      source = { path: model };
    } else {
      const ir = typeof model === 'string' ? loadModel(model) : model;
      const prepared = prepareModel(ir, opts.extraOutputs, this.encodeBuffer.alloc);
      source = prepared.source;
      aliases = prepared.aliases;
      cleanup = prepared.cleanup;
    }
    const sid = this.nextSid++;
    const { extraOutputs: _ignored, ...sessionOpts } = opts;
    let created: Omit<SessionInfo, 'notes'> & { failed: string[]; returned?: ArrayBuffer };
    try {
      const wasm = this.runtime === 'wasm' ? this.prepareWasm(sessionOpts, source) : undefined;
      // Only a buffer the bytes fill alone: a small model's bytes are a slice of Node's shared
      // Buffer pool, which Node 20 copies when listed here and Node 21 and later refuse to send.
      const transfer = 'bytes' in source && source.bytes.byteLength === source.bytes.buffer.byteLength ? [source.bytes.buffer as ArrayBuffer] : [];
      const returnBytes = 'bytes' in source && this.encodeBuffer.owns(source.bytes);
      created = await this.request(
        { op: 'create', sid, source, providers: usable, options: wasm?.options ?? sessionOpts, ...(wasm?.externalData.length ? { externalData: wasm.externalData } : {}), ...(returnBytes ? { returnBytes } : {}) },
        transfer,
      );
      if (created.returned) this.encodeBuffer.giveBack(created.returned);
    } catch (err) {
      // Our own checks (thread count, missing external data file) already name the way out.
      if (err instanceof SlimnetError && !(err instanceof RuntimeError)) throw err;
      const label = typeof model === 'string' ? model : model.label();
      const runtime = this.runtime === 'wasm' ? "onnxruntime-web's wasm backend" : 'ONNX Runtime';
      throw sessionLoadError(label, runtime, (err as Error).message);
    } finally {
      cleanup();
    }
    for (const f of created.failed) notes.push(`execution provider ${f.split(':')[0]} failed to start, fell back to the next one (${f.slice(f.indexOf(':') + 2)})`);
    const outputs = created.outputs.map((o) => ({ ...o, name: aliases.get(o.name) ?? o.name }));
    const info: SessionInfo = {
      inputNames: created.inputNames,
      outputNames: created.outputNames.map((n) => aliases.get(n) ?? n),
      inputs: created.inputs,
      outputs,
      provider: created.provider,
      notes,
    };
    for (const o of created.outputs) {
      if (o.type === 'int4' || o.type === 'uint4') {
        await this.request({ op: 'release', sid });
        throw new RuntimeError(`output '${o.name}' is ${o.type}; onnxruntime-node crashes when it returns 4-bit tensors, so slimnet will not run this model as is`);
      }
    }
    this.liveSessions++;
    return new OrtSession(this, sid, info, aliases);
  }

  /** @internal */
  _run(sid: number, feeds: Feeds, fetch?: string[]): Promise<Record<string, TensorData>> {
    return this.request({ op: 'run', sid, feeds: compactFeeds(feeds), ...(fetch ? { fetch } : {}) });
  }

  /** @internal */
  _time(sid: number, feeds: Feeds, iterations: number): Promise<number[]> {
    return this.request({ op: 'time', sid, feeds: compactFeeds(feeds), iterations });
  }

  /** @internal */
  async _release(sid: number): Promise<void> {
    await this.request({ op: 'release', sid });
    this.liveSessions--;
  }

  /** @internal */
  _endProfiling(sid: number): Promise<string | undefined> {
    if (this.runtime === 'wasm') {
      return Promise.reject(new RuntimeError("endProfiling: profiling is not supported on the wasm runtime (onnxruntime-web has no file system and prints profiles to stdout); profile with runtime 'node'"));
    }
    return this.request<string | null>({ op: 'endProfiling', sid }).then((r) => r ?? undefined);
  }

  /**
   * ONNX Runtime's own graph optimizations (constant folding, BatchNorm fusion at 'basic') applied to
   * a model and read back as IR. 'basic' output stays portable ONNX; higher levels may write
   * provider-specific ops. On the wasm runtime this runs on onnxruntime-node (a helper engine with
   * the same defaults): onnxruntime-web cannot write the optimized graph to disk, and at 'basic' the
   * graph rewrites are the same code in both builds.
   */
  async optimize(model: Model | string, level: 'basic' | 'extended' | 'all' = 'basic'): Promise<Model> {
    if (this.runtime === 'wasm') {
      this.nodeHelper ??= new Engine(this.defaults);
      return this.nodeHelper.optimize(model, level);
    }
    const dir = mkdtempSync(join(tmpdir(), 'slimnet-opt-'));
    const guard = removeOnExit(dir);
    try {
      const path = join(dir, 'optimized.onnx');
      const s = await this.createSession(model, { graphOptimizationLevel: level, optimizedModelPath: path, providers: ['cpu'] });
      await s.release();
      const m = loadModel(path);
      // Read any external data now: the temporary directory goes away.
      const { forEachTensor } = await import('../onnx/tensors.js');
      forEachTensor(m, (t) => { if (t.isExternal) { t.bytes(); t.relocate(undefined); } });
      m.sourcePath = typeof model === 'string' ? model : model.sourcePath;
      m.baseDir = typeof model === 'string' ? undefined : model.baseDir;
      return m;
    } finally {
      rmSync(dir, { recursive: true, force: true });
      guard.release();
    }
  }

  /**
   * Stops the worker (sessions die with it), once it has answered every request: terminating a
   * thread inside onnxruntime-node aborts the process (see session-host.ts), so a call in
   * progress is waited for. After cancel() that is at most the one inference in flight.
   */
  async close(): Promise<void> {
    const helper = this.nodeHelper;
    this.nodeHelper = undefined;
    await Promise.all([this.idle(), helper?.close()]);
    const w = this.worker;
    this.worker = null;
    this.encodeBuffer.clear();
    liveEngines.delete(this);
    await w?.terminate();
  }

  /**
   * Stops every engine's worker, each once idle. Called on Ctrl-C (after the interrupt cancelled
   * them) before the process exits: exiting while a worker is inside ONNX Runtime would abort.
   */
  static async closeAll(): Promise<void> {
    await Promise.all([...liveEngines].map((e) => e.close()));
  }
}

class OrtSession implements Session {
  private released = false;
  constructor(private readonly engine: Engine, private readonly sid: number, readonly info: SessionInfo, private readonly aliases: Map<string, string>) {}

  async run(feeds: Feeds, fetch?: string[]): Promise<Record<string, TensorData>> {
    if (this.released) throw new RuntimeError('session already released');
    let reverse: Map<string, string> | undefined;
    if (this.aliases.size && fetch) {
      reverse = new Map([...this.aliases].map(([a, b]) => [b, a]));
      fetch = fetch.map((n) => reverse!.get(n) ?? n);
    }
    const out = await this.engine._run(this.sid, feeds, fetch);
    if (!this.aliases.size) return out;
    const renamed: Record<string, TensorData> = {};
    for (const [k, v] of Object.entries(out)) renamed[this.aliases.get(k) ?? k] = v;
    return renamed;
  }

  time(feeds: Feeds, iterations = 1): Promise<number[]> {
    if (this.released) throw new RuntimeError('session already released');
    return this.engine._time(this.sid, feeds, iterations);
  }

  endProfiling(): Promise<string | undefined> {
    return this.engine._endProfiling(this.sid);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.engine._release(this.sid);
  }
}

let shared: Engine | undefined;
/** A process-wide engine for callers that do not manage their own. */
export function defaultEngine(): Engine {
  shared ??= new Engine();
  return shared;
}
