/**
 * Loads a user metric from a module file (`slimnet eval --metric ./char-accuracy.mjs`). The module's
 * default export (or an export named `metric`) is either a Metric ({ name, create() }) or a function
 * (outputs, batch) => score | score[] that is averaged per sample.
 */
import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OptionError } from '../errors.js';
import { sampleMetric, type Metric } from './metric.js';

const RESERVED = ['model', 'sha256', 'sizeBytes', 'latencyMs'];

export async function loadMetricModule(path: string): Promise<Metric> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new OptionError(`--metric ${path}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new OptionError(`--metric ${path}: cannot load the module: ${(err as Error).message.split('\n')[0]}`);
  }
  const exported = mod.metric ?? mod.default;
  let metric: Metric;
  if (typeof exported === 'function') {
    const fn = exported as Parameters<typeof sampleMetric>[1];
    metric = sampleMetric(fn.name && fn.name !== 'default' ? fn.name : basename(abs, extname(abs)), fn);
  } else if (exported && typeof exported === 'object' && typeof (exported as Metric).create === 'function' && typeof (exported as Metric).name === 'string') {
    metric = exported as Metric;
  } else {
    throw new OptionError(`--metric ${path}: export a function (outputs, batch) => score, or an object { name, higherIsBetter?, create() } as the default export or as 'metric'`);
  }
  if (RESERVED.includes(metric.name)) throw new OptionError(`--metric ${path}: the metric name '${metric.name}' is reserved in the report; choose another`);
  return metric;
}
