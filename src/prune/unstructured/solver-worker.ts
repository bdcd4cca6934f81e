/** A worker thread that runs SparseGPT solves for solver-pool.ts (no ONNX Runtime here). */
import { parentPort } from 'node:worker_threads';
import { sparseGpt, type SparseGptOptions } from './sparsegpt.js';

export interface SolveRequest {
  id: number;
  w: Float32Array;
  K: number;
  N: number;
  h: Float64Array;
  options: SparseGptOptions;
}

export interface SolveResponse {
  id: number;
  w?: Float32Array;
  mask?: Uint8Array;
  error?: string;
}

parentPort!.on('message', (req: SolveRequest) => {
  try {
    const mask = sparseGpt(req.w, req.K, req.N, req.h, req.options);
    const res: SolveResponse = { id: req.id, w: req.w, mask };
    parentPort!.postMessage(res, [req.w.buffer as ArrayBuffer, mask.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies SolveResponse);
  }
});
