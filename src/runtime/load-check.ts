/**
 * Loads and runs a model ONNX Runtime is about to be handed by a user, at the optimization level
 * the user will get (ORT's default, 'all'), in a child process. Some float16 graphs have crashed
 * ONNX Runtime natively while it optimized them (issue 14); in-process, that would kill slimnet
 * with no message. Here it becomes one error naming the model and the level, before anything is
 * written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../ir/model.js';
import { modelToBytes, saveModel, PROTOBUF_LIMIT } from '../onnx/io.js';
import { storedTensorBytes } from '../onnx/tensors.js';
import { syntheticFeeds } from '../eval/bench-feeds.js';
import { RuntimeError, SlimnetError } from '../errors.js';
import { ProbeExit, runProbe } from './memory-probe.js';
import type { Feeds, OptimizationLevel } from './types.js';

export interface LoadCheck {
  /** False when no inputs could be synthesized (float16 inputs, symbolic dimensions): loaded only. */
  ran: boolean;
}

/**
 * Throws RuntimeError (exit 6) when ONNX Runtime crashes or fails on `model` at `level`. `what`
 * names the model in the message (e.g. "the float16 model"). Runs it once on synthetic inputs
 * (batch 1) when they can be made from the declared inputs, else only loads it: ORT's graph
 * optimizations, where the crash was, run at load.
 */
export async function checkLoadsInChild(model: Model, what: string, level: OptimizationLevel = 'all'): Promise<LoadCheck> {
  let feeds: Feeds | undefined;
  try {
    feeds = syntheticFeeds(model, 1);
  } catch (err) {
    if (!(err instanceof SlimnetError)) throw err;
  }
  // Past protobuf's limit the model goes to a temporary file with external data.
  const big = storedTensorBytes(model) > PROTOBUF_LIMIT / 2;
  const dir = big ? mkdtempSync(join(tmpdir(), 'slimnet-load-check-')) : undefined;
  try {
    let source: string | Uint8Array;
    if (dir) {
      source = join(dir, 'model.onnx');
      saveModel(model, source, { externalData: true });
    } else {
      source = modelToBytes(model);
    }
    const reply = await runProbe({ source, provider: 'cpu', threads: 1, runs: feeds ? 1 : 0, feeds: feeds ?? {}, level }).catch((err: unknown) => {
      if (!(err instanceof ProbeExit)) throw err;
      const how = err.signal ? `crashed (${err.signal})` : `exited with code ${err.code}`;
      throw new RuntimeError(`${what}: ONNX Runtime ${how} while ${err.stage} it at graph optimization level '${level}' (its default) in a check process; nothing was written. Keep the ops involved out of the conversion with --exclude, or report the model to slimnet${err.stderrTail ? ` (ONNX Runtime: ${err.stderrTail})` : ''}`);
    });
    if (!reply.ok) throw new RuntimeError(`${what}: ONNX Runtime fails on it at graph optimization level '${level}' (its default); nothing was written: ${reply.error}`);
    return { ran: feeds !== undefined };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
