/**
 * What an Engine with `runtime: 'wasm'` accepts, checked on the caller's thread before anything
 * reaches onnxruntime-web, so that an option it cannot honour fails with a message instead of
 * being silently dropped.
 */
import { OptionError } from '../errors.js';
import type { ExecutionProvider, SessionOptions } from './types.js';

/**
 * onnxruntime-web's wasm backend is one CPU provider. 'cpu' is taken to mean it (callers written
 * for the node runtime ask for 'cpu'); GPU providers are skipped with a note, or refused under
 * strictProviders, like unavailable providers on the node runtime.
 */
export function wasmProviders(requested: ExecutionProvider[], strict: boolean): { usable: ExecutionProvider[]; notes: string[] } {
  const notes: string[] = [];
  let usable = false;
  for (const p of requested) {
    if (p === 'wasm' || p === 'cpu') { usable = true; continue; }
    const reason = `execution provider '${p}' is not part of the wasm runtime (onnxruntime-web's wasm backend has only 'wasm', on the CPU); use an Engine with runtime 'node' for '${p}'`;
    if (strict) throw new OptionError(reason);
    notes.push(`${reason}; skipped`);
  }
  if (!usable) throw new OptionError(`none of the requested execution providers (${requested.join(', ')}) runs on the wasm runtime: ask for 'wasm' (or 'cpu')`);
  return { usable: ['wasm'], notes };
}

/**
 * Refuses the options onnxruntime-web cannot carry out in Node. Its wasm module is built without a
 * file system: writes go to stdout/stderr only (measured with 1.30 in Node 20).
 */
export function checkWasmOptions(o: SessionOptions): void {
  if (o.optimizedModelPath) {
    // Asked to save the optimized graph, the module's fd_write throws a TypeError and takes the worker down.
    throw new OptionError(`optimizedModelPath is not supported on the wasm runtime (onnxruntime-web has no file system and cannot write ${o.optimizedModelPath}); save the optimized model with runtime 'node' (Engine.optimize does)`);
  }
  if (o.profilePrefix) {
    // The profile's JSON lines go to file descriptor 1, where they would corrupt `--json` output.
    throw new OptionError(`profiling (profilePrefix ${o.profilePrefix}) is not supported on the wasm runtime (onnxruntime-web has no file system and prints the profile to this process's stdout); profile with runtime 'node', or time whole runs with session.time()`);
  }
}

/**
 * onnxruntime-web sets its thread count once per wasm module (each Engine's worker has one). The
 * first session fixes it; a later one asking for a different count would silently get the first.
 */
export function checkWasmThreads(fixed: number | undefined, requested: number | undefined): number {
  const threads = requested ?? fixed ?? 1;
  if (fixed !== undefined && threads !== fixed) {
    throw new OptionError(`intraOpThreads ${threads}: this wasm Engine already runs onnxruntime-web with ${fixed} thread(s), and onnxruntime-web sets the count once per wasm module; use another Engine({ runtime: 'wasm', intraOpThreads: ${threads} })`);
  }
  return threads;
}
