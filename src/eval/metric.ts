/**
 * Task metrics: a score of one model on labelled (or unlabelled) data, accumulated batch by batch.
 * Built-in metrics (top-1, top-5, RMSE, MAE) and user metrics share this shape, so `evaluate`
 * treats a detection mAP or an OCR character accuracy exactly like top-1.
 */
import type { TensorData } from '../runtime/types.js';

/** What a metric sees of each batch besides the outputs. */
export interface MetricBatch {
  /** Labels of these samples (axis 0 = samples), when the data has them. */
  labels?: TensorData;
  /** The model inputs of the batch (read-only). */
  feeds: Readonly<Record<string, TensorData>>;
  /** Samples in the batch, and the index of the first one in the data. */
  count: number;
  first: number;
}

export interface MetricAccumulator {
  update(outputs: Readonly<Record<string, TensorData>>, batch: MetricBatch): void;
  /** The score over everything seen so far. */
  result(): number;
}

export interface Metric {
  name: string;
  /** Larger is better (accuracy) or smaller (an error). Default true. */
  higherIsBetter?: boolean;
  /** A fraction in [0, 1] (accuracy): its drop is reported in percentage points. */
  fraction?: boolean;
  /** Labels are required (an error names the missing array before inference starts). */
  needsLabels?: boolean;
  /** A fresh accumulator; `evaluate` creates one per model. */
  create(): MetricAccumulator;
}

/**
 * The simple case of a user metric: a score per sample (or one mean per batch), averaged over the
 * data weighted by sample count.
 *
 *   const charAccuracy = sampleMetric('char_acc', (out, batch) => decode(out.logits).map(...));
 */
export function sampleMetric(
  name: string,
  score: (outputs: Readonly<Record<string, TensorData>>, batch: MetricBatch) => number | number[],
  options: Omit<Metric, 'name' | 'create'> = {},
): Metric {
  return {
    ...options,
    name,
    create() {
      let sum = 0;
      let n = 0;
      return {
        update(outputs, batch) {
          const s = score(outputs, batch);
          if (Array.isArray(s)) { for (const v of s) sum += v; n += s.length; }
          else { sum += s * batch.count; n += batch.count; }
        },
        result: () => (n ? sum / n : NaN),
      };
    },
  };
}

function tidy(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

/**
 * How much worse the candidate is on a metric: positive = worse. For fractions the drop is in
 * percentage points (0.938 -> 0.933 is a drop of 0.5); otherwise in the metric's own units.
 * `relative` is the drop as a percentage of the reference score.
 */
export function metricDrop(metric: Pick<Metric, 'higherIsBetter' | 'fraction'>, reference: number, candidate: number): { drop: number; relative: number } {
  const worse = (metric.higherIsBetter ?? true) ? reference - candidate : candidate - reference;
  const drop = metric.fraction ? worse * 100 : worse;
  const relative = reference === 0 ? (worse === 0 ? 0 : Infinity) : (worse / Math.abs(reference)) * 100;
  // 0.881 - 0.8815 is -0.0004999999999999449 in binary floating point: report what a person would
  // compute (12 significant digits), so JSON and gates read -0.05, not -0.04999999999999449.
  return { drop: tidy(drop), relative: tidy(relative) };
}
