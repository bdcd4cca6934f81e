/**
 * JSON and JSON Lines data for small cases. Accepted shapes:
 * - JSONL: one sample per line, `{"input": [[...]], "label": 3}` or a bare nested array (one-input models);
 * - JSON: an array of such samples, or columns `{"input": [sample, ...], "labels": [...]}`.
 * Numbers take the model input's type; ragged arrays and nulls are errors naming the file and sample.
 */
import type { OrtType, TensorData } from '../../runtime/types.js';
import { DataError } from '../../errors.js';
import type { InputSpec } from './model-inputs.js';
import { ArrayDataset } from './array-dataset.js';
import { jsonLimitBytes, readDataFile } from './read-file.js';
import { formatDims, sameDims } from './stack.js';

type Json = number | boolean | null | string | Json[] | { [k: string]: Json };

/** Deeper nesting is no tensor a model takes, and would exhaust the stack below. */
const MAX_RANK = 16;

function shapeOf(v: Json, where: string, depth = 0): number[] {
  if (!Array.isArray(v)) return [];
  if (depth >= MAX_RANK) throw new DataError(`${where}: arrays nested more than ${MAX_RANK} deep; no model input has that many dimensions`);
  const inner = v.length ? shapeOf(v[0]!, where, depth + 1) : [];
  for (const x of v) if (!sameDims(shapeOf(x, where, depth + 1), inner)) throw new DataError(`${where}: ragged array (rows of different lengths)`);
  return [v.length, ...inner];
}

function flatten(v: Json, out: (number | boolean)[], where: string): void {
  if (Array.isArray(v)) { for (const x of v) flatten(x, out, where); return; }
  if (typeof v !== 'number' && typeof v !== 'boolean') throw new DataError(`${where}: ${v === null ? 'null (NaN/Infinity cannot be written in JSON)' : `a ${typeof v}`} where a number belongs`);
  out.push(v);
}

function typed(type: OrtType, values: (number | boolean)[], where: string): TensorData['data'] {
  const nums = values.map(Number);
  switch (type) {
    case 'float32': return Float32Array.from(nums);
    case 'float64': return Float64Array.from(nums);
    case 'int32': return Int32Array.from(nums);
    case 'int64': return BigInt64Array.from(nums, (x) => BigInt(Math.trunc(x)));
    case 'uint8': case 'bool': return Uint8Array.from(nums);
    case 'int8': return Int8Array.from(nums);
    default: throw new DataError(`${where}: JSON data cannot feed ${type} inputs; use .npy/.npz`);
  }
}

/** Samples as parsed objects, with where each came from (for messages). */
function samplesOf(path: string, text: string): { sample: Json; where: string }[] {
  if (path.toLowerCase().endsWith('.jsonl')) {
    return text.split('\n').map((line, i) => ({ line: line.trim(), i })).filter((l) => l.line).map(({ line, i }) => {
      try {
        return { sample: JSON.parse(line) as Json, where: `${path}:${i + 1}` };
      } catch (err) {
        throw new DataError(`${path}:${i + 1}: not valid JSON (${(err as Error).message})`);
      }
    });
  }
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw new DataError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(doc)) return doc.map((sample, i) => ({ sample, where: `${path} sample ${i}` }));
  if (doc && typeof doc === 'object') {
    // Columns: {input: [s0, s1, ...], labels: [...]} -> one object per sample.
    const cols = Object.entries(doc);
    const n = Array.isArray(cols[0]?.[1]) ? (cols[0]![1] as Json[]).length : 0;
    return Array.from({ length: n }, (_, i) => ({ sample: Object.fromEntries(cols.map(([k, v]) => [k === 'labels' ? 'label' : k, (v as Json[])[i] ?? null])), where: `${path} sample ${i}` }));
  }
  throw new DataError(`${path}: expected an array of samples or an object of input columns`);
}

export function openJson(path: string, inputs: readonly InputSpec[]): ArrayDataset {
  const text = readDataFile(path, jsonLimitBytes()).toString('utf8');
  const samples = samplesOf(path, text);
  if (samples.length === 0) throw new DataError(`${path}: the data set is empty (0 samples)`);
  const values = new Map<string, (number | boolean)[]>();
  const dims = new Map<string, number[]>();
  const labels: number[] = [];
  for (const { sample, where } of samples) {
    const obj: Record<string, Json> = Array.isArray(sample) ? { [inputs.length === 1 ? inputs[0]!.name : '']: sample } : (sample as Record<string, Json>);
    if (Array.isArray(sample) && inputs.length !== 1) throw new DataError(`${where}: a bare array can only feed a model with one input; name the inputs (${inputs.map((i) => i.name).join(', ')})`);
    for (const [name, v] of Object.entries(obj)) {
      if (name === 'label') {
        if (typeof v !== 'number') throw new DataError(`${where}: 'label' must be a number`);
        labels.push(v);
        continue;
      }
      const d = shapeOf(v, `${where}, input '${name}'`);
      const want = dims.get(name);
      if (want && !sameDims(d, want)) throw new DataError(`${where}: input '${name}' has shape ${formatDims(d)} but the first sample has ${formatDims(want)}`);
      dims.set(name, d);
      const list = values.get(name) ?? [];
      flatten(v, list, `${where}, input '${name}'`);
      values.set(name, list);
    }
  }
  const arrays: Record<string, TensorData> = {};
  for (const [name, vals] of values) {
    const type = inputs.find((i) => i.name === name)?.type ?? 'float32';
    arrays[name] = { type, dims: [samples.length, ...dims.get(name)!], data: typed(type, vals, path) };
    if (vals.length !== samples.length * dims.get(name)!.reduce((a, b) => a * b, 1)) throw new DataError(`${path}: input '${name}' is missing from some samples`);
  }
  if (labels.length && labels.length !== samples.length) throw new DataError(`${path}: some samples have a 'label' and others do not`);
  return new ArrayDataset(path, arrays, labels.length ? { type: 'int64', dims: [labels.length], data: BigInt64Array.from(labels, (l) => BigInt(l)) } : undefined);
}
