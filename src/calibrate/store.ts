/**
 * ranges.json: calibration results saved so quantization can re-run without calibrating again.
 * It records the model's hash, the data's hash, method, target and slimnet's version; loading
 * refuses ranges computed for a different model, with a message that says how to redo them.
 */
import type { Model } from '../ir/model.js';
import { DataError } from '../errors.js';
import { jsonLimitBytes, readDataFile } from './data/read-file.js';
import { writeFileAtomic } from '../onnx/atomic-write.js';
import { modelHash } from '../onnx/hash.js';
import { VERSION } from '../version.js';
import type { CalibrationResult, QuantTarget, RangeMethod, TensorDiagnostic, TensorRange } from './types.js';
import { RANGE_METHODS } from './ranges/estimate.js';

export const RANGES_SCHEMA = 'slimnet.ranges/1';

export interface RangesFile {
  schema: typeof RANGES_SCHEMA;
  slimnetVersion: string;
  createdAt: string;
  method: RangeMethod;
  target: QuantTarget;
  percentile?: number;
  movingAverage?: boolean;
  samples: number;
  model: { sha256: string; source?: string };
  data: { sha256: string; source?: string };
  ranges: Record<string, TensorRange>;
  diagnostics: TensorDiagnostic[];
  notes: string[];
}

/** The JSON document for a result (what `slimnet calibrate -o` writes and `--json` prints). */
export function rangesDocument(result: CalibrationResult, modelSource?: string): RangesFile {
  const doc: RangesFile = {
    schema: RANGES_SCHEMA,
    slimnetVersion: VERSION,
    createdAt: new Date().toISOString(),
    method: result.method,
    target: result.target,
    samples: result.samples,
    model: { sha256: result.modelHash, ...(modelSource ? { source: modelSource } : {}) },
    data: { sha256: result.dataHash, ...(result.dataSource ? { source: result.dataSource } : {}) },
    ranges: Object.fromEntries(result.ranges),
    diagnostics: result.diagnostics,
    notes: result.notes,
  };
  if (result.percentile !== undefined) doc.percentile = result.percentile;
  if (result.movingAverage) doc.movingAverage = true;
  return doc;
}

/** Writes ranges.json atomically (temp file, then rename). */
/** Writes ranges.json atomically; a failed write is an OutputError naming the file. */
export function saveRanges(result: CalibrationResult, path: string, options: { modelSource?: string } = {}): void {
  writeFileAtomic(path, `${JSON.stringify(rangesDocument(result, options.modelSource), null, 2)}\n`);
}

function isRange(r: unknown): r is TensorRange {
  const x = r as TensorRange;
  return typeof x === 'object' && x !== null && Number.isFinite(x.min) && Number.isFinite(x.max) && x.min <= x.max;
}

export interface LoadRangesOptions {
  /** Accept ranges recorded for a different model hash (e.g. the same model re-exported). */
  allowModelMismatch?: boolean;
}

/**
 * Reads ranges.json. With `model` (as loaded from its file, before any rewriting), checks that the
 * ranges were computed for this exact model and that every tensor exists in it.
 */
export function loadRanges(path: string, model?: Model, options: LoadRangesOptions = {}): CalibrationResult {
  let doc: RangesFile;
  try {
    doc = JSON.parse(readDataFile(path, jsonLimitBytes()).toString('utf8')) as RangesFile;
  } catch (err) {
    const why = err instanceof DataError ? err.message.slice(path.length + 2) : `not valid JSON (${(err as Error).message})`;
    throw new DataError(`${path}: ${why}; write one with slimnet calibrate MODEL --calib DATA -o ${path}`);
  }
  if (doc?.schema !== RANGES_SCHEMA) throw new DataError(`${path}: not a slimnet ranges file (schema '${String(doc?.schema)}', expected '${RANGES_SCHEMA}')`);
  if (!RANGE_METHODS.includes(doc.method)) throw new DataError(`${path}: unknown method '${doc.method}'`);
  if (typeof doc.ranges !== 'object' || doc.ranges === null || Array.isArray(doc.ranges)) throw new DataError(`${path}: 'ranges' must be an object of tensor name: {min, max} (got ${JSON.stringify(doc.ranges) ?? 'nothing'})`);
  if (typeof doc.model?.sha256 !== 'string') throw new DataError(`${path}: 'model.sha256' must name the model the ranges were computed for (as slimnet calibrate writes it)`);
  for (const key of ['notes', 'diagnostics'] as const) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) throw new DataError(`${path}: '${key}' must be a list (got ${JSON.stringify(doc[key])})`);
  }
  for (const [name, r] of Object.entries(doc.ranges)) {
    if (!isRange(r)) throw new DataError(`${path}: the range of '${name}' is not {min, max} with finite min <= max`);
  }
  if (model) {
    const actual = modelHash(model);
    if (actual !== doc.model?.sha256 && !options.allowModelMismatch) {
      throw new DataError(
        `${path}: these ranges were computed for another model (sha256 ${String(doc.model?.sha256).slice(0, 12)}${doc.model?.source ? `, ${doc.model.source}` : ''}), ` +
          `not for ${model.label()} (sha256 ${actual.slice(0, 12)}); re-run slimnet calibrate ${model.label()} --calib DATA -o ${path}`,
      );
    }
    const names = new Set<string>([...model.graph.inputs.map((v) => v.name), ...model.graph.nodes.flatMap((n) => n.outputs.map((o) => o.name))]);
    const missing = Object.keys(doc.ranges).filter((n) => !names.has(n));
    if (missing.length) throw new DataError(`${path}: ${missing.length} tensor(s) are not in ${model.label()} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}); re-run slimnet calibrate`);
  }
  const result: CalibrationResult = {
    method: doc.method,
    target: doc.target,
    ranges: new Map(Object.entries(doc.ranges)),
    samples: doc.samples,
    diagnostics: doc.diagnostics ?? [],
    modelHash: doc.model.sha256,
    dataHash: doc.data?.sha256 ?? '',
    notes: doc.notes ?? [],
  };
  if (doc.data?.source) result.dataSource = doc.data.source;
  if (doc.percentile !== undefined) result.percentile = doc.percentile;
  if (doc.movingAverage) result.movingAverage = true;
  return result;
}
