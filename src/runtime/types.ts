/** The runtime boundary: everything outside src/runtime talks to ONNX Runtime through these types. */
import type { TypedArray } from '../ir/tensor.js';

/** Execution providers onnxruntime-node knows by name. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'webgpu' | 'dml' | 'coreml' | 'qnn';

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
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimizationLevel?: OptimizationLevel;
  /** Save ONNX Runtime's optimized graph here (after its graph optimizations). */
  optimizedModelPath?: string;
  /** Session config entries (e.g. 'session.x64quantprecision': '1'). */
  config?: Record<string, string>;
  /** Write an ORT profile (JSON) with this file prefix. */
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
