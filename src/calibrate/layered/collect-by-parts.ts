/**
 * Layer-by-layer calibration: statistics of a model too large to run whole (a multi-GB decoder),
 * collected one part at a time (plan-parts.ts). Part 0 runs on the user's data; every later part
 * runs on the activations the parts before it handed on, kept in memory batch by batch (a
 * decoder's hidden state: 512 KiB per sample of 64 tokens at width 2048). ONNX Runtime never holds
 * more than one part's weights, and the caller consumes each part's statistics (GPTQ, AWQ) before
 * the next part is run, so they never pile up either.
 */
import type { Model } from '../../ir/model.js';
import { extractPart } from '../../ir/extract.js';
import type { Node } from '../../ir/node.js';
import { nodeReads } from '../../ir/passes/topological-sort.js';
import { tensorType, type TypeInfo } from '../../ir/types.js';
import { dataTypeOfOrt } from '../../runtime/tensor-data.js';
import type { TensorData } from '../../runtime/types.js';
import { throwIfAborted } from '../../errors.js';
import { collectGarbage } from '../../runtime/collect-garbage.js';
import type { ProgressEvent } from '../../progress.js';
import type { StatRequest } from '../types.js';
import type { Batch, BatchOptions } from '../data/dataset.js';
import type { DataSource } from '../data/open.js';
import type { Statistics } from '../stats/statistics.js';
import { collectStatistics, type CollectOptions, type ReadyBatches } from '../stats/collector.js';
import type { Part } from './plan-parts.js';

/** The batches one part handed on (and the graph inputs later parts read), in data order. */
class HandedOn implements ReadyBatches {
  readonly ready = true as const;
  readonly notes: string[] = [];
  readonly size: number;
  readonly batchSize: number;
  readonly sampleInfo: Record<string, { type: TensorData['type']; dims: number[] }>;

  constructor(readonly source: string, private readonly list: Batch[]) {
    this.size = list.reduce((s, b) => s + b.count, 0);
    this.batchSize = list[0]?.count ?? 1;
    const first = list[0]?.feeds ?? {};
    this.sampleInfo = Object.fromEntries(Object.entries(first).map(([k, t]) => [k, { type: t.type, dims: t.dims.slice(1) }]));
  }

  async *batches(_batchSize?: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    for (const b of this.list) {
      throwIfAborted(options.signal, 'calibration');
      yield b;
    }
  }

  /** Bytes held (for the summary). */
  bytes(): number {
    let n = 0;
    for (const b of this.list) for (const t of Object.values(b.feeds)) n += (t.data as { byteLength?: number }).byteLength ?? 0;
    return n;
  }
}

/**
 * The nodes of a part that compute something asked for (a statistic's tensor, a value handed on):
 * in the last part of a decoder the LM head only has its input observed, and running it would
 * load its 262 MB weight and produce 131 MB of logits per batch for nothing.
 */
function neededNodes(nodes: readonly Node[], wanted: readonly string[]): Node[] {
  const needed = new Set(wanted);
  const kept: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o.name))) continue;
    kept.push(n);
    for (const v of nodeReads(n)) needed.add(v.name);
  }
  return kept.reverse();
}

export interface PartStatistics {
  part: Part;
  index: number;
  stats: Statistics;
  /** Bytes of activations kept for the next part. */
  handedOnBytes: number;
}

/**
 * Yields each part's statistics in order; `requestsFor` says what to collect on a part (requests
 * on tensors it reads or produces). Weights read from external data for a part are released once
 * its statistics are in: the caller reads them again when it quantizes them.
 */
export async function* collectByParts(
  model: Model, parts: readonly Part[], data: DataSource, requestsFor: (part: Part) => StatRequest[], options: CollectOptions = {},
): AsyncGenerator<PartStatistics> {
  const graphInputs = new Map(model.graph.inputs.map((v) => [v.name, v.type] as const));
  // Values some later part reads: what each handed-on batch must carry.
  const readLater = parts.map((_, i) => new Set(parts.slice(i + 1).flatMap((p) => p.reads)));
  let source: DataSource | ReadyBatches = data;
  let types = new Map<string, TensorData['type']>();
  for (const [i, part] of parts.entries()) {
    throwIfAborted(options.signal, 'calibration');
    // What the caller did with the last part (its statistics, GPTQ's work arrays) is garbage now:
    // collected before this part allocates, or both would be resident at once.
    if (i > 0) collectGarbage();
    const inputs = new Map<string, TypeInfo | undefined>();
    // The first part takes every graph input a part reads: the data is bound to it once.
    const names = i === 0 ? [...new Set([...model.graph.inputs.map((v) => v.name).filter((n) => readLater[0]!.has(n)), ...part.reads])] : part.reads;
    for (const name of names) {
      const handed = types.get(name);
      inputs.set(name, graphInputs.has(name) && !handed ? graphInputs.get(name) : tensorType(dataTypeOfOrt(handed ?? 'float32')));
    }
    const produced = new Set(part.handsOn);
    const keep = [...readLater[i]!];
    const capture = keep.filter((n) => produced.has(n));
    const next: Batch[] = [];
    const requests = requestsFor(part);
    const partModel = extractPart(model, neededNodes(part.nodes, [...requests.map((r) => r.tensor), ...capture]), inputs, capture);
    const listener = options.onProgress;
    const stats = await collectStatistics(partModel, source, requests, {
      ...options,
      ...(listener ? { onProgress: (e: ProgressEvent) => listener({ ...e, message: e.message ?? `part ${i + 1} of ${parts.length}` }) } : {}),
      ...(i > 0 ? { data: {} } : {}),
      ...(keep.length ? {
        capture: {
          outputs: capture,
          onBatch: (batch: Batch, outputs: Record<string, TensorData>) => {
            const feeds: Record<string, TensorData> = {};
            for (const name of keep) {
              const t = outputs[name] ?? batch.feeds[name];
              if (t) feeds[name] = t;
            }
            next.push({ feeds, count: batch.count, first: batch.first });
          },
        },
      } : {}),
    });
    for (const n of part.nodes) for (const v of n.inputs) if (v?.constValue?.externalLocation) v.constValue.release();
    const handed = new HandedOn(`${typeof data === 'string' ? data : 'the calibration data'} (after part ${i + 1} of ${parts.length})`, next);
    types = new Map(Object.entries(handed.sampleInfo).map(([k, v]) => [k, v.type]));
    source = handed;
    yield { part, index: i, stats, handedOnBytes: handed.bytes() };
  }
}
