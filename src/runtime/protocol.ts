/**
 * The messages between an Engine and its worker thread. Both workers (onnxruntime-node in
 * worker.ts, onnxruntime-web's wasm backend in wasm-worker.ts) speak exactly this protocol, so the
 * Engine and its sessions do not care which runtime is on the other side.
 */
import type { ExecutionProvider, Feeds, SessionOptions } from './types.js';

/** Where the worker finds the model: bytes (transferred) or a file it reads itself. */
export type ModelSource = { bytes: Uint8Array } | { path: string };

/**
 * External data files for the wasm worker: onnxruntime-web cannot look next to the model file, so
 * each data file is named as the model writes it (`path`, the tensor's `location`) and where it
 * is on disk (`data`, read by onnxruntime-web with node:fs).
 */
export interface ExternalDataFile {
  path: string;
  data: string;
}

export type WorkerRequest =
  /** `returnBytes`: send the model's buffer back with the answer (the Engine reuses it, encode-buffer.ts). */
  | { op: 'create'; id: number; sid: number; source: ModelSource; providers: ExecutionProvider[]; options: SessionOptions; externalData?: ExternalDataFile[]; returnBytes?: boolean }
  | { op: 'run'; id: number; sid: number; feeds: Feeds; fetch?: string[] }
  | { op: 'time'; id: number; sid: number; feeds: Feeds; iterations: number }
  | { op: 'endProfiling'; id: number; sid: number }
  | { op: 'release'; id: number; sid: number };

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; kind?: 'provider' | 'session' | 'cancelled' };
