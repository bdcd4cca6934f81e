/** The runtime boundary: everything outside src/runtime talks to ONNX Runtime through these types. */
import type { TypedArray } from '../ir/tensor.js';

/**
 * Execution providers by name: the ones onnxruntime-node knows, and 'wasm', onnxruntime-web's
 * WebAssembly CPU backend (only on an Engine with `runtime: 'wasm'`).
 */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'webgpu' | 'dml' | 'coreml' | 'qnn' | 'wasm';

/**
 * Which ONNX Runtime package an Engine runs its sessions on.
 * - 'node': onnxruntime-node, native MLAS kernels of this machine (AVX2/AVX-512/VNNI, NEON).
 * - 'wasm': onnxruntime-web's WebAssembly backend in this Node process, the same .wasm build that
 *   `import 'onnxruntime-web/wasm'` loads in a browser (ort-wasm-simd-threaded.wasm: SIMD128, no
 *   relaxed SIMD), so its timings are what a web page gets from the wasm backend on this CPU.
 *   Only the 'wasm' provider ('cpu' means the same); no optimizedModelPath or profiling (the
 *   module has no file system: the first crashes it, the second prints to stdout).
 *   Its worker has V8 compile WebAssembly with TurboFan only (`--no-liftoff`, process-wide), so
 *   that timings are steady from the second run instead of after hundreds of baseline-code runs;
 *   the first session of a wasm Engine takes a few seconds longer to start.
 *   Threads: onnxruntime-web sets its thread count (`env.wasm.numThreads`) once per wasm instance,
 *   and each wasm Engine has its own; it is the first session's `intraOpThreads`, default 1 (not
 *   onnxruntime-web's default of half the cores, up to 4). A later session asking for another
 *   count is refused: use another Engine.
 */
export type Runtime = 'node' | 'wasm';

/** Engine construction: the runtime, and session options every session starts from. */
export interface EngineOptions extends SessionOptions {
  /** Default 'node'. */
  runtime?: Runtime;
  /**
   * Cancels the engine when aborted: waiting calls reject with CancelledError, no new inference
   * starts, and close() stops the worker once the inference in progress has ended.
   */
  signal?: AbortSignal;
}

/** Element types as ONNX Runtime names them. */
export type OrtType =
  | 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'
  | 'int64' | 'uint64' | 'bool' | 'string' | 'int4' | 'uint4';

/** A tensor crossing the runtime boundary: plain data, transferable between threads. */
export interface TensorData {
  type: OrtType;
  dims: number[];
  data: TypedArray | string[];
}

export type Feeds = Record<string, TensorData>;

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /**
   * Providers in order of preference. The first available one is used; when a provider is skipped
   * because it is not available, the session reports it in `info.notes`. Default ['cpu'].
   */
  providers?: ExecutionProvider[];
  /** Fail instead of falling back when the first provider is not available. */
  strictProviders?: boolean;
  /** Threads inside one operator (on 'wasm': the module's numThreads, see Runtime). */
  intraOpThreads?: number;
  /** Threads across operators; sessions run sequentially, so ONNX Runtime does not use it (accepted on 'wasm' too). */
  interOpThreads?: number;
  graphOptimizationLevel?: OptimizationLevel;
  /** Save ONNX Runtime's optimized graph here (after its graph optimizations). Not on runtime 'wasm'. */
  optimizedModelPath?: string;
  /** Session config entries (e.g. 'session.x64quantprecision': '1'); onnxruntime-web passes them through too. */
  config?: Record<string, string>;
  /** Write an ORT profile (JSON) with this file prefix. Not on runtime 'wasm'. */
  profilePrefix?: string;
}

export interface ValueMeta {
  name: string;
  type?: string;
  shape?: (number | string)[];
}

export interface SessionInfo {
  inputNames: string[];
  outputNames: string[];
  inputs: ValueMeta[];
  outputs: ValueMeta[];
  /** The provider the session actually runs on (first usable of the requested list). */
  provider: ExecutionProvider;
  /** Fallbacks and other things the caller should tell the user. */
  notes: string[];
}

export interface Session {
  readonly info: SessionInfo;
  /** Runs inference off the main thread. `fetch` limits the outputs returned. */
  run(feeds: Feeds, fetch?: string[]): Promise<Record<string, TensorData>>;
  /**
   * Runs inference `iterations` times in the worker and returns each run's time in milliseconds,
   * measured next to the session (no message passing or output copies in the numbers).
   */
  time(feeds: Feeds, iterations?: number): Promise<number[]>;
  /** Ends profiling and returns the profile file path (when profilePrefix was set). */
  endProfiling(): Promise<string | undefined>;
  release(): Promise<void>;
}

export interface ProviderStatus {
  name: ExecutionProvider;
  available: boolean;
  /** Why not, and how to install it. */
  reason?: string;
}
