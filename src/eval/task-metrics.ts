/**
 * The built-in tasks and their metrics. A task picks the primary metric whose drop the evaluator
 * reports (and the gates read):
 *   classification  top-1 (and top-5) accuracy against integer or one-hot labels; drop in points
 *   regression      RMSE (and MAE) against labels shaped like the output; drop in label units
 *   embedding       mean cosine similarity to the reference (no labels); drop = (1 − cosine) in points
 *   generic         no task metric; only the reference-vs-candidate numbers (and user metrics)
 */
import type { TensorData } from '../runtime/types.js';
import { DataError } from '../errors.js';
import { toFloat64 } from './compare.js';
import type { Metric, MetricAccumulator } from './metric.js';

export type Task = 'classification' | 'regression' | 'embedding' | 'generic';
export const TASKS: readonly Task[] = ['classification', 'regression', 'embedding', 'generic'];

/** Class index per sample from integer labels [N] / [N,1] or one-hot/probability labels [N,C]. */
export function classLabels(labels: TensorData, samples: number, classes: number, source: string): Int32Array {
  const v = toFloat64(labels);
  const out = new Int32Array(samples);
  const per = samples ? v.length / samples : 0;
  if (per === 1) {
    for (let i = 0; i < samples; i++) {
      const x = v[i]!;
      if (!Number.isInteger(x) || x < 0 || x >= classes) {
        throw new DataError(`${source}: label ${x} of sample ${i} is not a class index in [0, ${classes}) for an output with ${classes} classes`);
      }
      out[i] = x;
    }
  } else if (per === classes) {
    for (let i = 0; i < samples; i++) {
      let best = 0;
      for (let j = 1; j < classes; j++) if (v[i * per + j]! > v[i * per + best]!) best = j;
      out[i] = best;
    }
  } else {
    throw new DataError(`${source}: labels shaped [${labels.dims.join(',')}] fit neither class indices [${samples}] nor one-hot [${samples},${classes}]`);
  }
  return out;
}

/** Rows of an output as (samples, classes); a classifier has one row of scores per sample. */
function classifierRows(out: TensorData, samples: number, outputName: string): { samples: number; classes: number; values: Float64Array } {
  const values = toFloat64(out);
  const classes = samples ? values.length / samples : 0;
  const last = out.dims[out.dims.length - 1] ?? 1;
  if (classes !== last || classes < 2) {
    throw new DataError(`output '${outputName}' shaped [${out.dims.join(',')}] is not one row of class scores per sample; choose another output with --output, or --task generic`);
  }
  return { samples, classes, values };
}

/** Top-k accuracy on output `outputName`; ties rank the lower class index first (as argmax). */
export function topK(k: number, outputName: string): Metric {
  return {
    name: `top${k}`,
    fraction: true,
    needsLabels: true,
    create(): MetricAccumulator {
      let hits = 0;
      let n = 0;
      return {
        update(outputs, batch) {
          const out = outputs[outputName]!;
          const { samples, classes, values } = classifierRows(out, batch.count, outputName);
          const labels = classLabels(batch.labels!, samples, classes, 'labels');
          for (let s = 0; s < samples; s++) {
            const off = s * classes;
            const y = labels[s]!;
            const target = values[off + y]!;
            // A NaN score is no prediction: a miss (it would otherwise outrank nothing and hit).
            if (Number.isNaN(target)) continue;
            let rank = 0;
            for (let j = 0; j < classes; j++) {
              const x = values[off + j]!;
              if (x > target || (x === target && j < y)) rank++;
            }
            if (rank < k) hits++;
          }
          n += samples;
        },
        result: () => (n ? hits / n : NaN),
      };
    },
  };
}

function regressionMetric(name: 'rmse' | 'mae', outputName: string): Metric {
  return {
    name,
    higherIsBetter: false,
    needsLabels: true,
    create(): MetricAccumulator {
      let sum = 0;
      let n = 0;
      return {
        update(outputs, batch) {
          const y = toFloat64(outputs[outputName]!);
          const t = toFloat64(batch.labels!);
          if (y.length !== t.length) {
            throw new DataError(`labels shaped [${batch.labels!.dims.join(',')}] do not match output '${outputName}' shaped [${outputs[outputName]!.dims.join(',')}] for regression`);
          }
          for (let i = 0; i < y.length; i++) {
            const e = y[i]! - t[i]!;
            sum += name === 'rmse' ? e * e : Math.abs(e);
          }
          n += y.length;
        },
        result: () => (n ? (name === 'rmse' ? Math.sqrt(sum / n) : sum / n) : NaN),
      };
    },
  };
}

/** The task's metrics on one output, primary first. */
export function taskMetrics(task: Task, outputName: string, classes: number | undefined): Metric[] {
  switch (task) {
    case 'classification':
      return classes !== undefined && classes < 5 ? [topK(1, outputName)] : [topK(1, outputName), topK(5, outputName)];
    case 'regression':
      return [regressionMetric('rmse', outputName), regressionMetric('mae', outputName)];
    default:
      return [];
  }
}

/**
 * The task when the user did not say: classification when there are labels and the output is one
 * row of at least two scores per sample, regression when labels are float and shaped like the
 * output, otherwise generic.
 */
export function inferTask(output: TensorData | undefined, samples: number, labels: TensorData | undefined): Task {
  if (!labels || !output || samples < 1) return 'generic';
  const elements = output.dims.reduce((a, b) => a * b, 1);
  const per = elements / samples;
  const last = output.dims[output.dims.length - 1] ?? 1;
  const labelPer = labels.dims.reduce((a, b) => a * b, 1) / samples;
  const floatLabels = labels.type === 'float32' || labels.type === 'float64' || labels.type === 'float16';
  const scoreRows = per === last && last >= 2;
  if (scoreRows && labelPer === 1 && (!floatLabels || integral(labels))) return 'classification';
  if (scoreRows && labelPer === last && distributions(labels, last)) return 'classification';
  if (floatLabels && labelPer === per) return 'regression';
  return 'generic';
}

/**
 * Why labels fit no task for this output, when inferTask found none ('generic'): auto-detection
 * must not drop labels silently (float class labels 0.0, 1.0, ... with a rounding error, one-hot
 * rows that do not sum to 1). Undefined when there are no labels.
 */
export function labelsMisfit(output: TensorData | undefined, samples: number, labels: TensorData | undefined): string | undefined {
  if (!labels || !output || samples < 1) return undefined;
  const per = output.dims.reduce((a, b) => a * b, 1) / samples;
  const last = output.dims[output.dims.length - 1] ?? 1;
  const labelPer = labels.dims.reduce((a, b) => a * b, 1) / samples;
  const shape = `[${labels.dims.join(',')}]`;
  if (per === last && last >= 2 && labelPer === 1) {
    const v = toFloat64(labels);
    const i = v.findIndex((x) => !Number.isInteger(x));
    return `the labels ${shape} are ${labels.type} values that are not class indices (${v[i]} in sample ${i}) for an output of ${last} class scores`;
  }
  if (per === last && last >= 2 && labelPer === last) return `the labels ${shape} are neither one-hot nor probability rows for an output of ${last} class scores`;
  return `the labels ${shape} (${labels.type}) are neither class indices for an output of class scores nor float targets shaped like the output [${output.dims.join(',')}]`;
}

function integral(t: TensorData): boolean {
  const v = toFloat64(t);
  for (let i = 0; i < Math.min(v.length, 1000); i++) if (!Number.isInteger(v[i])) return false;
  return true;
}

/** One-hot or probability rows: non-negative, each row summing to 1 (checked on the first rows). */
function distributions(t: TensorData, width: number): boolean {
  const v = toFloat64(t);
  for (let off = 0; off < Math.min(v.length, 100 * width); off += width) {
    let sum = 0;
    for (let j = 0; j < width; j++) { const x = v[off + j]!; if (x < 0) return false; sum += x; }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}
