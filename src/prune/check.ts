/**
 * What pruning did, measured: the file size raw and compressed (zeros compress, so unstructured
 * sparsity shows up there and nowhere else on ONNX Runtime's CPU), latency of the original and the
 * pruned model timed in turn on this machine (1 intra-op thread, batch 1), and the accuracy drop on
 * labelled data, or, without labels, how closely the pruned model's outputs follow the original's.
 */
import { gzipSync } from 'node:zlib';
import type { Model } from '../ir/model.js';
import { modelToBytes } from '../onnx/io.js';
import { Engine } from '../runtime/engine.js';
import type { Feeds } from '../runtime/types.js';
import type { DataSource } from '../calibrate/data/open.js';
import { measureInterleaved } from '../tune/latency.js';
import { dataFeeds, syntheticFeeds } from '../eval/bench-feeds.js';
import { evaluate } from '../eval/evaluate.js';
import { errorMessage } from '../errors.js';

export interface SizeFigures {
  /** Bytes of the .onnx file (weights inline). */
  raw: number;
  /** Bytes once gzip-compressed (level 6). */
  compressed: number;
}

export interface PruneCheck {
  sizes: { before: SizeFigures; after: SizeFigures };
  latency?: { referenceMs: number; prunedMs: number; speedup: number; runs: number; threads: 1; inputs: 'data' | 'random' };
  /** On labelled data: the primary metric (top-1 for classifiers) of both models. */
  accuracy?: { data: string; metric: string; reference: number; pruned: number; drop: number; samples: number };
  /** Without labels: output agreement with the original. */
  fidelity?: { data: string; samples: number; sqnrDb: number; cosine: number; agreement: number | null; identical: boolean; elements: number; nonFinite: { reference: number; candidate: number } };
  notes: string[];
}

export interface CheckOptions {
  engine?: Engine;
  /** Labelled data for the accuracy figure. */
  evalData?: DataSource;
  evalSize?: number;
  /** Data for the fidelity figure (and the timing input) when there are no labels. */
  calibration?: DataSource;
  /** Time the models (default true). */
  latency?: boolean;
  /** Timed runs per model (default 30). */
  runs?: number;
}

export function sizeOf(model: Model): SizeFigures {
  const bytes = modelToBytes(model);
  return { raw: bytes.length, compressed: gzipSync(bytes, { level: 6 }).length };
}

export async function checkPruned(original: Model, pruned: Model, o: CheckOptions = {}): Promise<PruneCheck> {
  const engine = o.engine ?? new Engine();
  const check: PruneCheck = { sizes: { before: sizeOf(original), after: sizeOf(pruned) }, notes: [] };
  try {
    const data = o.evalData ?? o.calibration;
    if (o.latency ?? true) {
      let feeds: Feeds | undefined;
      let inputs: 'data' | 'random' = 'random';
      try {
        if (data !== undefined) { feeds = (await dataFeeds(data, original, 1)).feeds; inputs = 'data'; }
        else feeds = syntheticFeeds(original, 1);
      } catch (err) {
        check.notes.push(`latency not measured: ${errorMessage(err)}`);
      }
      if (feeds) {
        const runs = o.runs ?? 30;
        const [a, b] = await measureInterleaved([original, pruned], feeds, { engine, runs, warmup: 5, session: { intraOpThreads: 1, interOpThreads: 1 } });
        check.latency = { referenceMs: a!.medianMs, prunedMs: b!.medianMs, speedup: a!.medianMs / b!.medianMs, runs, threads: 1, inputs };
      }
    }
    if (data !== undefined) {
      const e = await evaluate(original, pruned, data, { engine, ...(o.evalSize ? { limit: o.evalSize } : {}) });
      const source = e.data.source;
      if (o.evalData !== undefined && e.primary) {
        check.accuracy = { data: source, metric: e.primary.name, reference: e.primary.reference, pruned: e.primary.candidate, drop: e.primary.drop, samples: e.samples };
      } else if (e.outputs[0]) {
        const out = e.outputs[0];
        check.fidelity = {
          data: source, samples: e.samples, sqnrDb: out.sqnrDb, cosine: out.cosine, agreement: out.agreement,
          identical: out.identical, elements: out.elements, nonFinite: { reference: out.referenceNonFinite, candidate: out.candidateNonFinite },
        };
      }
    }
  } finally {
    if (!o.engine) await engine.close();
  }
  return check;
}
