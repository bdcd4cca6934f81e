/**
 * The accuracy drop of many candidates against one reference, on the same samples, for searches
 * that evaluate a model again and again (the accuracy budget, sensitivity-guided pruning): the
 * data is read and the reference run once, each candidate then costs one pass of its own.
 *
 * Metrics, each giving a drop that is positive when the candidate is worse:
 *   top1       top-1 accuracy against class labels; drop in percentage points
 *   agreement  argmax agreement with the reference's outputs, row by row along the last axis (as
 *              slimnet eval defines it: per sample for a classifier, per time step for a sequence);
 *              drop = disagreeing rows, in points
 *   sqnr       relative RMS error of the output against the reference's, in percent
 *              (1% = 40 dB SQNR, 3% = 30.5 dB)
 *   a module   a user metric (outputs, batch) => score, drop as `slimnet eval` reports it
 * Default: top1 when the data has labels, agreement otherwise.
 */
import type { Model } from '../ir/model.js';
import type { Engine } from '../runtime/engine.js';
import type { Feeds, Session, TensorData } from '../runtime/types.js';
import { openDataset, type DataSource } from '../calibrate/data/open.js';
import { DataError, OptionError, throwIfAborted } from '../errors.js';
import { argmax, toFloat64 } from './compare.js';
import { metricDrop, type Metric } from './metric.js';
import { loadMetricModule } from './metric-module.js';
import { topK } from './task-metrics.js';
import { feedsFor } from './model-runs.js';

export type DropMetricName = 'top1' | 'agreement' | 'sqnr';
export const DROP_METRICS: readonly DropMetricName[] = ['top1', 'agreement', 'sqnr'];

export interface DropEvaluatorOptions {
  /** 'top1', 'agreement', 'sqnr' or the path of a metric module (default: top1 with labels, else agreement). */
  metric?: string;
  /** Samples to evaluate on: a fixed subset spread over the data (default 1000). */
  limit?: number;
  /** Name of the labels array (default 'labels'). */
  labels?: string;
  /** The output the metric reads (default: the first). */
  output?: string;
  engine: Engine;
  signal?: AbortSignal;
}

export interface DropScore {
  /** The candidate's score on the metric (accuracy, agreement, RMS error %, ...). */
  score: number;
  /** How much worse than the reference, in the metric's drop units (positive = worse). */
  drop: number;
}

interface Batch {
  feeds: Feeds;
  labels?: TensorData;
  count: number;
  first: number;
  /** The reference's output for this batch. */
  reference: TensorData;
}

export class DropEvaluator {
  private constructor(
    readonly metricName: string,
    /** Unit of drops, for messages: 'points' or '%' or the metric's own. */
    readonly unit: string,
    readonly referenceScore: number,
    readonly samples: number,
    private readonly batches: Batch[],
    private readonly output: string,
    private readonly engine: Engine,
    private readonly userMetric: Metric | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async create(reference: Model, source: DataSource, o: DropEvaluatorOptions): Promise<DropEvaluator> {
    const data = await openDataset(source, reference, { labelsKey: o.labels, limit: o.limit ?? 1000, batchSize: 32 });
    const session = await o.engine.createSession(reference, { intraOpThreads: 1 });
    try {
      const output = o.output ?? session.info.outputNames[0]!;
      if (!session.info.outputNames.includes(output)) throw new OptionError(`output '${output}' is not an output of ${reference.label()} (${session.info.outputNames.join(', ')})`);
      const batches: Batch[] = [];
      for await (const b of data.batches(data.batchSize, { signal: o.signal })) {
        const out = await session.run(feedsFor(session, b.feeds), [output]);
        batches.push({ feeds: b.feeds, labels: b.labels, count: b.count, first: b.first, reference: out[output]! });
      }
      const samples = batches.reduce((n, b) => n + b.count, 0);
      if (!samples) throw new DataError(`${data.source}: no samples to evaluate`);
      const name = o.metric ?? (data.hasLabels ? 'top1' : 'agreement');
      if (name === 'top1' && !data.hasLabels) throw new DataError(`${data.source}: --metric top1 needs a labels array (the data has: ${data.inputNames.join(', ')}); use --metric agreement to compare with the float model's own answers`);
      let user: Metric | undefined;
      if (!(DROP_METRICS as readonly string[]).includes(name)) {
        if (!/\.(m?js|cjs)$/.test(name)) throw new OptionError(`--metric must be one of ${DROP_METRICS.join(', ')} or a metric module (.js/.mjs), got '${name}'`);
        user = await loadMetricModule(name);
      }
      const unit = name === 'sqnr' ? '% RMS error' : user && !user.fraction ? user.name : 'points';
      // The reference scores 1 on agreement with itself and 0% error against itself.
      const ref = name === 'top1' || user ? scoreOutputs(user ?? topK(1, output), batches, batches.map((b) => b.reference), output) : name === 'agreement' ? 1 : 0;
      return new DropEvaluator(user?.name ?? name, unit, ref, samples, batches, output, o.engine, user, o.signal);
    } finally {
      await session.release();
    }
  }

  /** Runs the candidate on the evaluation samples and scores it against the reference. */
  async evaluate(candidate: Model): Promise<DropScore> {
    const session: Session = await this.engine.createSession(candidate, { intraOpThreads: 1 });
    const outputs: TensorData[] = [];
    try {
      for (const b of this.batches) {
        throwIfAborted(this.signal, 'evaluation');
        outputs.push((await session.run(feedsFor(session, b.feeds), [this.output]))[this.output]!);
      }
    } finally {
      await session.release();
    }
    switch (this.metricName) {
      case 'agreement': {
        let same = 0;
        let rows = 0;
        this.batches.forEach((b, i) => {
          const r = toFloat64(b.reference), c = toFloat64(outputs[i]!);
          const k = b.reference.dims[b.reference.dims.length - 1] ?? 1;
          for (let row = 0; row * k < r.length; row++, rows++) if (argmax(r, row * k, k) === argmax(c, row * k, k)) same++;
        });
        const agreement = rows ? same / rows : 1;
        return { score: agreement, drop: Number(((1 - agreement) * 100).toPrecision(12)) };
      }
      case 'sqnr': {
        let signal = 0, noise = 0;
        this.batches.forEach((b, i) => {
          const r = toFloat64(b.reference), c = toFloat64(outputs[i]!);
          for (let j = 0; j < r.length; j++) { signal += r[j]! * r[j]!; noise += (c[j]! - r[j]!) ** 2; }
        });
        const rms = signal ? 100 * Math.sqrt(noise / signal) : 0;
        return { score: rms, drop: rms };
      }
      default: {
        const score = scoreOutputs(this.userMetric ?? topK(1, this.output), this.batches, outputs, this.output);
        const m = this.userMetric ?? { higherIsBetter: true, fraction: true };
        return { score, drop: metricDrop(m, this.referenceScore, score).drop };
      }
    }
  }
}

/** The score of a set of outputs (one per batch) on a metric. */
function scoreOutputs(metric: Metric, batches: Batch[], outputs: TensorData[], output: string): number {
  const acc = metric.create();
  batches.forEach((b, i) => acc.update({ [output]: outputs[i]! }, { labels: b.labels, feeds: b.feeds, count: b.count, first: b.first }));
  return acc.result();
}
