/**
 * Loads and runs a model ONNX Runtime is about to be handed by a user, at the optimization level
 * the user will get (ORT's default, 'all'), in a child process. Some float16 graphs have crashed
 * ONNX Runtime natively while it optimized them (issue 14); in-process, that would kill slimnet
 * with no message. Here it becomes one error naming the model and the level, before anything is
 * written. Every mode runs it on its output (static, dynamic, weight-only, fp16, pruning).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../ir/model.js';
import { modelToBytes, saveModel, PROTOBUF_LIMIT } from '../onnx/io.js';
import { forEachTensor, storedTensorBytes } from '../onnx/tensors.js';
import { syntheticFeeds } from '../eval/bench-feeds.js';
import { RuntimeError, SlimnetError } from '../errors.js';
import { ProbeExit, prewarmProbe, runProbe } from './memory-probe.js';
import type { Feeds, OptimizationLevel } from './types.js';
import type { ProgressListener } from '../progress.js';

const MiB = 1024 * 1024;

export interface LoadCheck {
  /** 'ran': loaded and ran once; 'loaded': loaded only (no inputs could be synthesized); 'skipped': over `maxBytes`, not loaded. */
  outcome: 'ran' | 'loaded' | 'skipped';
  /** What happened, as one line for the summary's notes. */
  note: string;
}

export interface LoadCheckOptions {
  level?: OptimizationLevel;
  /** The way out a crash message names; default: keep the ops involved as they were with --exclude, or report the model. */
  fix?: string;
  /** Not loaded above this many bytes of tensors (the note says so and why); default: no limit. */
  maxBytes?: number;
  /** Why `maxBytes` exists, for the note ('a check process would hold the model in memory a second time'). */
  maxBytesReason?: string;
  /** Told when the check starts (stage 'check'): a large model takes seconds to write and load. */
  onProgress?: ProgressListener;
}

/** True when some tensor lives in a file (external data, a spill file): the check then reads it from a file too. */
function hasFileTensors(model: Model): boolean {
  let found = false;
  forEachTensor(model, (t) => { if (t.externalLocation) found = true; });
  return found;
}

/**
 * Commands that end with a load check call this when they start: the check process is then up
 * (Node started, ONNX Runtime imported) by the time the model is ready for it.
 */
export function prepareLoadCheck(): void {
  prewarmProbe();
}

/**
 * Throws RuntimeError (exit 6) when ONNX Runtime crashes or fails on `model` at `level`. `what`
 * names the model in the message (e.g. "the float16 model"). Runs it once on synthetic inputs
 * (batch 1) when they can be made from the declared inputs, else only loads it: ORT's graph
 * optimizations, where the crash was, run at load.
 */
export async function checkLoadsInChild(model: Model, what: string, options: LoadCheckOptions = {}): Promise<LoadCheck> {
  const level = options.level ?? 'all';
  const bytes = storedTensorBytes(model);
  if (options.maxBytes !== undefined && bytes > options.maxBytes) {
    return {
      outcome: 'skipped',
      note: `${what} was not loaded in a check process: its ${(bytes / MiB).toFixed(0)} MiB of weights are over the ${(options.maxBytes / MiB).toFixed(0)} MiB limit of the check${options.maxBytesReason ? ` (${options.maxBytesReason})` : ''}; load it once at ONNX Runtime's default optimization level ('${level}') before shipping it`,
    };
  }
  options.onProgress?.({ stage: 'check', done: 0, message: `loading ${what} at optimization level '${level}' in a check process` });
  let feeds: Feeds | undefined;
  try {
    feeds = syntheticFeeds(model, 1);
  } catch (err) {
    if (!(err instanceof SlimnetError)) throw err;
  }
  // Past protobuf's limit, or with weights already in a file (a spill file), the model goes to a
  // temporary file with external data, streamed tensor by tensor instead of one buffer in memory.
  const toFile = bytes > PROTOBUF_LIMIT / 2 || hasFileTensors(model);
  const dir = toFile ? mkdtempSync(join(tmpdir(), 'slimnet-load-check-')) : undefined;
  try {
    let source: string | Uint8Array;
    if (dir) {
      source = join(dir, 'model.onnx');
      saveModel(model, source, { externalData: true, copy: true });
    } else {
      source = modelToBytes(model);
    }
    const fix = options.fix ?? 'keep the ops involved as they were with --exclude, or report the model to slimnet';
    const reply = await runProbe({ source, provider: 'cpu', threads: 1, runs: feeds ? 1 : 0, feeds: feeds ?? {}, level, reuse: true }).catch((err: unknown) => {
      if (!(err instanceof ProbeExit)) throw err;
      const how = err.signal ? `crashed (${err.signal})` : `exited with code ${err.code}`;
      throw new RuntimeError(`${what}: ONNX Runtime ${how} while ${err.stage} it at graph optimization level '${level}' (its default) in a check process; nothing was written. ${fix[0]!.toUpperCase()}${fix.slice(1)}${err.stderrTail ? ` (ONNX Runtime: ${err.stderrTail})` : ''}`);
    });
    if (!reply.ok) throw new RuntimeError(`${what}: ONNX Runtime fails on it at graph optimization level '${level}' (its default); nothing was written: ${reply.error}`);
    return feeds
      ? { outcome: 'ran', note: `${what} loaded and ran at ONNX Runtime's optimization level '${level}' in a check process` }
      : { outcome: 'loaded', note: `${what} loaded at ONNX Runtime's optimization level '${level}' in a check process (not run: its inputs could not be synthesized)` };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
