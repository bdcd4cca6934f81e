/** Options of `prune()` and `slimnet prune`, validated once, each error naming its flag. */
import { OptionError } from '../errors.js';
import type { DataSource } from '../calibrate/data/open.js';
import type { Engine } from '../runtime/engine.js';
import type { ProgressListener } from '../progress.js';
import type { PrunePlan } from './plan.js';

export type PruneMethod = 'magnitude' | 'wanda' | 'sparsegpt' | 'channel';
export const PRUNE_METHODS: readonly PruneMethod[] = ['magnitude', 'wanda', 'sparsegpt', 'channel'];
/** How the sparsity is spread over layers: the same in each, one global threshold, or chosen from a sensitivity scan. */
export type PruneScope = 'layer' | 'global' | 'sensitivity';
export const PRUNE_SCOPES: readonly PruneScope[] = ['layer', 'global', 'sensitivity'];
/** How channel pruning scores a channel: weight norms, or the output energy it carries on the calibration data. */
export type ChannelImportance = 'l1' | 'l2' | 'activation';
export const CHANNEL_IMPORTANCES: readonly ChannelImportance[] = ['l1', 'l2', 'activation'];

export interface PruneOptions {
  /**
   * Fraction of the weights to zero in every pruned layer (unstructured), or of the channels to
   * remove from every prunable group (channel), in [0, 1). With `maxDrop`: the most to try.
   */
  sparsity?: number;
  /** 'magnitude' (default, no data), 'wanda' or 'sparsegpt' (need `calibration`), or 'channel' (structured). */
  method?: PruneMethod;
  /** 'layer' (default), 'global' (one threshold on |w|, or on normalized channel scores), 'sensitivity' (needs data). */
  scope?: PruneScope;
  /** N:M semi-structured sparsity, e.g. '2:4': keep N of every M weights along the reduction. */
  pattern?: string;
  /** Calibration data: any source `openDataset` accepts (an .npz named after the model inputs). */
  calibration?: DataSource;
  /** Calibration samples to use (default 128). */
  calibSize?: number;
  /** Nodes to leave alone: names, op types, globs (*, ?) or /regex/ on names. */
  exclude?: string[];
  /** Also prune the first and last weighted layers (excluded by default). */
  includeFirstLast?: boolean;
  /** The accuracy budget in points (top-1 with labels, agreement with the original's answers without): the largest sparsity within it. */
  maxDrop?: number;
  /** Data the budget is measured on (required by maxDrop); labelled for top-1. */
  evalData?: DataSource;
  /** Samples of evalData to use (default: all for the report, up to 1000 for the --max-drop search). */
  evalSize?: number;
  /** Channel scores (default 'activation' with calibration data, else 'l2'). */
  importance?: ChannelImportance;
  /** Channel: refit the layers after each cut by least squares on the calibration data (default: on when data is given). */
  reconstruct?: boolean;
  /** Channel: keep channel counts at multiples of this (default 8: ONNX Runtime's blocked kernels pad to 8 or 16). */
  channelMultiple?: number;
  /** SparseGPT damping, a fraction of the mean Hessian diagonal (default 0.01). */
  dampPercent?: number;
  /**
   * Replay: the plan a previous run decided (its `plan`, kept in a recipe). No sensitivity scan and
   * no --max-drop search run; the plan's layer sparsities or channel drops are applied as they are.
   */
  plan?: PrunePlan;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ResolvedPruneOptions {
  sparsity: number;
  method: PruneMethod;
  scope: PruneScope;
  nm?: { n: number; m: number };
  calibration?: DataSource;
  calibSize: number;
  exclude: string[];
  includeFirstLast: boolean;
  maxDrop?: number;
  evalData?: DataSource;
  evalSize?: number;
  importance: ChannelImportance;
  reconstruct: boolean;
  channelMultiple: number;
  dampPercent: number;
  plan?: PrunePlan;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function parsePattern(pattern: string): { n: number; m: number } {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pattern);
  if (!m) throw new OptionError(`--pattern '${pattern}': give N:M, e.g. 2:4 (keep 2 of every 4 weights)`);
  const n = Number(m[1]);
  const mm = Number(m[2]);
  if (!(n >= 1 && mm >= 2 && n < mm && mm <= 32)) throw new OptionError(`--pattern ${pattern}: need 1 <= N < M <= 32 (e.g. 2:4, 1:4, 4:8)`);
  return { n, m: mm };
}

function fraction(flag: string, v: number | undefined, max = 1): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= max) throw new OptionError(`${flag} must be a fraction in [0, ${max}) (e.g. 0.5 for half), got '${String(v)}'`);
  return v;
}

export function resolvePruneOptions(o: PruneOptions): ResolvedPruneOptions {
  const method = o.method ?? 'magnitude';
  if (!PRUNE_METHODS.includes(method)) throw new OptionError(`--method '${String(method)}' is not a pruning method; use ${PRUNE_METHODS.join(', ')}`);
  const scope = o.scope ?? 'layer';
  if (!PRUNE_SCOPES.includes(scope)) throw new OptionError(`--scope '${String(scope)}': use ${PRUNE_SCOPES.join(', ')}`);
  const nm = o.pattern !== undefined ? parsePattern(o.pattern) : undefined;
  let sparsity = fraction('--sparsity', o.sparsity);
  if (nm) {
    if (method === 'channel') throw new OptionError('--pattern N:M is semi-structured sparsity inside weights; --method channel removes whole channels. Use one or the other');
    const implied = 1 - nm.n / nm.m;
    if (sparsity !== undefined && Math.abs(sparsity - implied) > 1e-9) throw new OptionError(`--pattern ${nm.n}:${nm.m} fixes the sparsity at ${implied}; drop --sparsity ${sparsity}`);
    if (scope !== 'layer') throw new OptionError(`--pattern ${nm.n}:${nm.m} applies to every group of ${nm.m} weights; --scope ${scope} cannot spread it differently over layers`);
    if (o.maxDrop !== undefined) throw new OptionError(`--pattern ${nm.n}:${nm.m} fixes the sparsity, so there is nothing for --max-drop to search`);
    sparsity = implied;
  }
  if (sparsity === undefined) throw new OptionError('--sparsity is required (a fraction, e.g. 0.5), unless --pattern N:M sets it');
  const needsData = method === 'wanda' || method === 'sparsegpt';
  if (needsData && o.calibration === undefined) {
    throw new OptionError(`--method ${method} needs calibration data (--calib DATA, e.g. an .npz named after the model inputs): it ${method === 'wanda' ? 'weighs each weight by the activations it multiplies' : 'rebuilds each layer to keep its outputs on that data'}`);
  }
  if (o.plan !== undefined && o.maxDrop !== undefined) throw new OptionError('a replayed plan (--recipe) fixes every sparsity: there is nothing for --max-drop to search');
  if (o.plan !== undefined && (o.plan.method !== method || o.plan.scope !== scope)) throw new OptionError(`the plan was made by --method ${o.plan.method} --scope ${o.plan.scope}, not --method ${method} --scope ${scope}`);
  if (scope === 'sensitivity' && o.calibration === undefined) throw new OptionError('--scope sensitivity needs calibration data (--calib DATA): each layer is pruned alone and its effect on the outputs measured there');
  const maxDrop = o.maxDrop;
  if (maxDrop !== undefined) {
    if (!(typeof maxDrop === 'number' && Number.isFinite(maxDrop) && maxDrop >= 0)) throw new OptionError(`--max-drop must be a non-negative number of points (e.g. 1 for one top-1 point), got '${String(maxDrop)}'`);
    if (o.evalData === undefined) throw new OptionError('--max-drop needs data to measure the drop on (--eval-data DATA: top-1 with labels, agreement with the original without)');
  }
  const calibSize = o.calibSize ?? 128;
  if (!Number.isInteger(calibSize) || calibSize < 1) throw new OptionError(`--calib-size ${String(calibSize)}: give a positive number of samples`);
  if (o.evalSize !== undefined && !(Number.isInteger(o.evalSize) && o.evalSize > 0)) throw new OptionError(`--eval-size ${String(o.evalSize)}: give a positive number of samples`);
  const importance = o.importance ?? (o.calibration !== undefined ? 'activation' : 'l2');
  if (!CHANNEL_IMPORTANCES.includes(importance)) throw new OptionError(`--importance '${String(importance)}': use ${CHANNEL_IMPORTANCES.join(', ')}`);
  if (importance === 'activation' && o.calibration === undefined) throw new OptionError('--importance activation needs calibration data (--calib DATA)');
  if (o.reconstruct && o.calibration === undefined) throw new OptionError('reconstruct needs calibration data (--calib DATA): the next layers are refitted by least squares on it');
  if ((o.importance !== undefined || o.reconstruct !== undefined || o.channelMultiple !== undefined) && method !== 'channel') {
    const flag = o.importance !== undefined ? '--importance' : o.reconstruct !== undefined ? (o.reconstruct ? 'reconstruct' : '--no-reconstruct') : '--channel-multiple';
    throw new OptionError(`${flag} applies to --method channel only`);
  }
  if (o.dampPercent !== undefined && method !== 'sparsegpt') throw new OptionError('--damp-percent applies to --method sparsegpt only');
  if (o.calibSize !== undefined && o.calibration === undefined) throw new OptionError('--calib-size needs --calib DATA: it is the number of calibration samples to use');
  if (o.evalSize !== undefined && o.evalData === undefined) throw new OptionError('--eval-size needs --eval-data DATA: it is the number of evaluation samples to use');
  const channelMultiple = o.channelMultiple ?? 8;
  if (!Number.isInteger(channelMultiple) || channelMultiple < 1) throw new OptionError(`--channel-multiple ${String(channelMultiple)}: give a positive integer (1 keeps exact counts)`);
  const dampPercent = o.dampPercent ?? 0.01;
  if (!(dampPercent > 0 && dampPercent < 1)) throw new OptionError(`--damp-percent ${String(dampPercent)}: give a fraction between 0 and 1 (e.g. 0.01)`);
  return {
    sparsity, method, scope, ...(nm ? { nm } : {}),
    calibration: o.calibration, calibSize, exclude: o.exclude ?? [], includeFirstLast: o.includeFirstLast ?? false,
    ...(maxDrop !== undefined ? { maxDrop } : {}), evalData: o.evalData, ...(o.evalSize !== undefined ? { evalSize: o.evalSize } : {}),
    importance, reconstruct: o.reconstruct ?? o.calibration !== undefined, channelMultiple, dampPercent,
    ...(o.plan ? { plan: o.plan } : {}), engine: o.engine, signal: o.signal, onProgress: o.onProgress,
  };
}

/** The resolved options, for reports and plans. */
export function pruneSettings(o: ResolvedPruneOptions): Record<string, string | number | boolean> {
  const s: Record<string, string | number | boolean> = { method: o.method, scope: o.scope, sparsity: o.sparsity };
  if (o.nm) s.pattern = `${o.nm.n}:${o.nm.m}`;
  if (o.calibration !== undefined) s.calibSize = o.calibSize;
  if (o.exclude.length) s.exclude = o.exclude.join(',');
  if (o.includeFirstLast) s.includeFirstLast = true;
  if (o.maxDrop !== undefined) s.maxDrop = o.maxDrop;
  if (o.method === 'channel') {
    s.importance = o.importance;
    s.reconstruct = o.reconstruct;
    s.channelMultiple = o.channelMultiple;
  }
  if (o.method === 'sparsegpt') s.dampPercent = o.dampPercent;
  return s;
}
