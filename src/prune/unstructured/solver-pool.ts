/**
 * SparseGPT solves of independent layers run in parallel on worker threads: each is O(K^3) pure
 * arithmetic (4608-wide Hessians in a ResNet-50), so with every layer's Hessian collected in the
 * one calibration pass, the cores can each take a layer. One worker per core, at most four.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { sparseGpt, type SparseGptOptions } from './sparsegpt.js';
import type { SolveRequest, SolveResponse } from './solver-worker.js';

function spawn(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./solver-worker.js', import.meta.url));
  // From TypeScript sources the worker is loaded through tsx's loader, as the Engine's is.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const url = new URL('./solver-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)}));`, { eval: true });
}

export class SolverPool implements Solver {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { req: SolveRequest; resolve: (r: { w: Float32Array; mask: Uint8Array }) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { resolve: (r: { w: Float32Array; mask: Uint8Array }) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(readonly size = Math.min(4, Math.max(1, availableParallelism()))) {
    for (let i = 0; i < size; i++) {
      const w = spawn();
      w.on('message', (res: SolveResponse) => this.done(w, res));
      w.on('error', (err) => this.fail(err));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Prunes `w` ([K, N], returned updated) with Hessian `h` on the next free worker. The buffers are transferred. */
  solve(w: Float32Array, K: number, N: number, h: Float64Array, options: SparseGptOptions): Promise<{ w: Float32Array; mask: Uint8Array }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, w, K, N, h, options }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.pending.set(job.req.id, job);
      worker.postMessage(job.req, [job.req.w.buffer as ArrayBuffer, job.req.h.buffer as ArrayBuffer]);
    }
  }

  private done(worker: Worker, res: SolveResponse): void {
    const job = this.pending.get(res.id);
    this.pending.delete(res.id);
    this.idle.push(worker);
    if (job) {
      if (res.error !== undefined) job.reject(new Error(res.error));
      else job.resolve({ w: res.w!, mask: res.mask! });
    }
    this.pump();
  }

  private fail(err: Error): void {
    for (const job of [...this.pending.values(), ...this.queue]) job.reject(err);
    this.pending.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export interface Solver {
  readonly size: number;
  solve(w: Float32Array, K: number, N: number, h: Float64Array, options: SparseGptOptions): Promise<{ w: Float32Array; mask: Uint8Array }>;
  close(): Promise<void>;
}

/** Solves on this thread: for small layers, where starting workers costs more than it saves. */
export class InlineSolver implements Solver {
  readonly size = 1;
  async solve(w: Float32Array, K: number, N: number, h: Float64Array, options: SparseGptOptions): Promise<{ w: Float32Array; mask: Uint8Array }> {
    const mask = sparseGpt(w, K, N, h, options);
    return { w, mask };
  }

  async close(): Promise<void> {}
}

/** Worker threads only pay off when a solve takes long: a reduction of 1024 is about half a second. */
export const POOL_MIN_REDUCTION = 1024;
