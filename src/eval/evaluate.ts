/**
 * `evaluate(reference, candidate, data)`: runs both models on the same samples and answers "how much
 * accuracy did I lose?" — the task metric of each model and its drop, and, always, how closely the
 * candidate's outputs follow the reference's (agreement, cosine, SQNR, MSE, max abs error).
 */
import type { Model } from '../ir/model.js';
import { Engine } from '../runtime/engine.js';
import type { Session, SessionOptions, TensorData } from '../runtime/types.js';
import { openDataset, type DataSource } from '../calibrate/data/open.js';
import { DataHasher } from '../calibrate/data/data-hash.js';
import { DataError, OptionError } from '../errors.js';
import { ProgressTracker, type ProgressListener } from '../progress.js';
import { OutputComparator, type OutputComparison } from './compare.js';
import { metricDrop, type Metric, type MetricAccumulator } from './metric.js';
import { inferTask, labelsMisfit, taskMetrics, TASKS, type Task } from './task-metrics.js';
import { modelSha256, modelSizeBytes } from './hash.js';
import { checkDataInputs, modelRef, runBatch, type ModelRef } from './model-runs.js';

export interface EvaluateOptions {
  /** Default 'auto': classification with class labels, regression with float labels, else generic. */
  task?: Task | 'auto';
  /** The output the task metric reads (default: the first output). */
  output?: string;
  /** Extra metrics (detection mAP, OCR accuracy, ...); the first one becomes the primary metric. */
  metrics?: Metric[];
  /** Name of the labels array in .npz data (default 'labels'); an error if the data has none by that name. */
  labels?: string;
  /** Evaluate a fixed subset of this many samples, spread over the data (as calibration picks them). */
  limit?: number;
  /** Samples per run (default 32; a model with a fixed batch dimension uses its own). */
  batchSize?: number;
  engine?: Engine;
  /** Session options for both models (providers, threads). */
  session?: SessionOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ModelSummary {
  label: string;
  path?: string;
  sha256: string;
  sizeBytes: number;
  /** Metric name -> score of this model. */
  scores: Record<string, number>;
}

export interface MetricComparison {
  name: string;
  higherIsBetter: boolean;
  fraction: boolean;
  reference: number;
  candidate: number;
  /** Positive = the candidate is worse; percentage points for fractions, else the metric's units. */
  drop: number;
  /** The drop as a percentage of the reference score. */
  relativeDrop: number;
}

export interface EvaluationResult {
  task: Task;
  /** The output the task metric read. */
  output: string;
  samples: number;
  data: { source: string; sha256: string; hasLabels: boolean };
  reference: ModelSummary;
  candidate: ModelSummary;
  /** The metric whose drop matters (top1, rmse, cosine for embeddings, or the first user metric). */
  primary: MetricComparison | null;
  metrics: MetricComparison[];
  /** Reference-vs-candidate comparison of every output both models have. */
  outputs: OutputComparison[];
  notes: string[];
}

function validate(options: EvaluateOptions): void {
  if (options.task && options.task !== 'auto' && !TASKS.includes(options.task)) {
    throw new OptionError(`unknown task '${options.task}' (choose ${TASKS.join(', ')} or auto)`);
  }
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize > 0)) {
    throw new OptionError(`batch size must be a positive integer, got ${options.batchSize}`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new OptionError(`sample limit must be a positive integer, got ${options.limit}`);
  }
}

/**
 * `data` is a path (.npz, see openDataset) or any Dataset; it is bound to the reference model
 * (input names, shapes and types checked before any inference).
 */
export async function evaluate(reference: Model | string, candidate: Model | string, source: DataSource, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  validate(options);
  const ref = modelRef(reference);
  const cand = modelRef(candidate);
  const engine = options.engine ?? new Engine({ signal: options.signal });
  const sessions: Session[] = [];
  try {
    const data = await openDataset(source, ref.model, { labelsKey: options.labels, limit: options.limit, batchSize: options.batchSize ?? 32 });
    if (options.labels && !data.hasLabels) throw new DataError(`--labels ${options.labels}: ${data.source} has no labels array named '${options.labels}'`);
    const open = (m: ModelRef) => engine.createSession(m.path ?? m.model, { intraOpThreads: 1, ...options.session });
    sessions.push(await open(ref), await open(cand));
    const [rs, cs] = sessions as [Session, Session];
    checkDataInputs(data, [{ session: cs, label: cand.label }]);
    const labelled = (options.task === 'classification' || options.task === 'regression' ? [options.task as string] : []).concat((options.metrics ?? []).filter((m) => m.needsLabels).map((m) => m.name));
    if (labelled.length && !data.hasLabels) {
      throw new DataError(`${data.source}: ${labelled.join(', ')} needs labels, and the data has none (arrays: ${data.inputNames.join(', ')}); add a labels array or name it with --labels`);
    }
    const notes: string[] = [];
    const common = rs.info.outputNames.filter((n) => cs.info.outputNames.includes(n));
    if (!common.length) {
      throw new DataError(`${cand.label} has none of the outputs of ${ref.label} (${rs.info.outputNames.join(', ')} vs ${cs.info.outputNames.join(', ')}); a candidate must keep the reference's output names`);
    }
    for (const n of rs.info.outputNames) if (!common.includes(n)) notes.push(`output '${n}' is missing from the candidate and was not compared`);
    const output = options.output ?? common[0]!;
    if (!common.includes(output)) throw new OptionError(`--output '${output}' is not an output of both models (they share: ${common.join(', ')})`);

    const total = data.size ?? Infinity;
    const progress = new ProgressTracker('evaluate', Number.isFinite(total) ? total : undefined, options.onProgress);
    const comparators = common.map((n) => new OutputComparator(n));
    const hasher = new DataHasher();
    let task: Task | undefined;
    let metrics: Metric[] = [];
    let accs: [MetricAccumulator, MetricAccumulator][] = [];
    let samples = 0;

    for await (const b of data.batches(data.batchSize, { signal: options.signal })) {
      const [rOut, cOut] = await Promise.all([runBatch(rs, ref.label, b, common), runBatch(cs, cand.label, b, common)]);
      if (!task) {
        task = options.task && options.task !== 'auto' ? options.task : inferTask(rOut[output]!, b.count, b.labels);
        const misfit = task === 'generic' && (!options.task || options.task === 'auto') && !options.metrics?.some((m) => m.needsLabels) ? labelsMisfit(rOut[output]!, b.count, b.labels) : undefined;
        if (misfit) throw new DataError(`${data.source}: ${misfit}; store class indices as integers (or targets shaped like the output), choose --task, or pass --task generic to evaluate without the labels`);
        // Labels were checked up front for explicit tasks and user metrics; an inferred task only needs them when they are there.
        metrics = [...(options.metrics ?? []), ...taskMetrics(task, output, classesOf(rOut[output]!))];
        accs = metrics.map((m) => [m.create(), m.create()]);
      }
      const mb = { labels: b.labels, feeds: b.feeds, count: b.count, first: b.first };
      metrics.forEach((_, i) => { accs[i]![0].update(rOut, mb); accs[i]![1].update(cOut, mb); });
      comparators.forEach((c) => c.add(rOut[c.name]!, cOut[c.name]!, b.count));
      hasher.update(b.labels ? { ...b.feeds, '\u0000labels': b.labels } : b.feeds, b.count);
      samples += b.count;
      progress.update(samples);
    }
    if (!task || samples === 0) throw new DataError(`${data.source}: no samples to evaluate`);
    notes.push(...data.notes);

    const comparisons: MetricComparison[] = metrics.map((m, i) => compareMetric(m, accs[i]![0].result(), accs[i]![1].result()));
    const outputs = comparators.map((c) => c.result());
    let primary = comparisons[0] ?? null;
    if (task === 'embedding') {
      const cos = outputs.find((o) => o.name === output)!.cosine;
      const emb = compareMetric({ name: 'cosine', fraction: true }, 1, cos);
      comparisons.unshift(emb);
      primary = options.metrics?.length ? primary : emb;
    }
    const summary = (m: ModelRef, which: 'reference' | 'candidate'): ModelSummary => ({
      label: m.label,
      ...(m.path ? { path: m.path } : {}),
      sha256: modelSha256(m.model, m.path),
      sizeBytes: modelSizeBytes(m.model, m.path),
      scores: Object.fromEntries(comparisons.map((c) => [c.name, c[which]])),
    });
    return {
      task,
      output,
      samples,
      data: { source: data.source, sha256: hasher.digest(), hasLabels: data.hasLabels },
      reference: summary(ref, 'reference'),
      candidate: summary(cand, 'candidate'),
      primary,
      metrics: comparisons,
      outputs,
      notes,
    };
  } finally {
    for (const s of sessions) await s.release();
    if (!options.engine) await engine.close();
  }
}

function classesOf(t: TensorData): number | undefined {
  return t.dims.length >= 1 ? t.dims[t.dims.length - 1] : undefined;
}

function compareMetric(m: Pick<Metric, 'name' | 'higherIsBetter' | 'fraction'>, reference: number, candidate: number): MetricComparison {
  const { drop, relative } = metricDrop(m, reference, candidate);
  return { name: m.name, higherIsBetter: m.higherIsBetter ?? true, fraction: m.fraction ?? false, reference, candidate, drop, relativeDrop: relative };
}
