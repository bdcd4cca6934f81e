/**
 * Sensitivity-guided sparsity: each layer is pruned alone to a few sparsities and the change of
 * the model's outputs on a few calibration samples is measured (relative squared error over every
 * float output). Then per-layer sparsities are chosen so that the global target costs the least
 * summed error: the layer whose next 1% costs the least error per weight removed gives it, until the
 * target is met (costs are made non-decreasing in sparsity, so this greedy choice is the optimum of
 * the piecewise-linear model).
 *
 * The scan runs one session per layer, with that layer's weight turned into a graph input and fed
 * at each sparsity: the model is loaded once per layer, not once per layer and sparsity.
 */
import type { Model } from '../ir/model.js';
import { cloneModel } from '../ir/clone.js';
import { Tensor } from '../ir/tensor.js';
import { tensorType } from '../ir/types.js';
import { Engine } from '../runtime/engine.js';
import { asFloat32, fromIrTensor } from '../runtime/tensor-data.js';
import type { Feeds, TensorData } from '../runtime/types.js';
import { openDataset } from '../calibrate/data/open.js';
import { throwIfAborted } from '../errors.js';
import { ProgressTracker } from '../progress.js';
import type { ResolvedPruneOptions } from './options.js';
import type { WeightTarget } from './targets.js';

export const SCAN_LEVELS = [0.3, 0.5, 0.7, 0.9];
/** No layer is pruned beyond this by the allocation. */
export const MAX_LAYER_SPARSITY = 0.95;
const SCAN_SAMPLES = 32;

export interface SensitivityScan {
  levels: number[];
  /** Per layer (node name): relative output error at each level. */
  costs: Map<string, number[]>;
  samples: number;
}

function relativeError(ref: Record<string, TensorData>, got: Record<string, TensorData>): [number, number] {
  let num = 0;
  let den = 0;
  for (const [name, r] of Object.entries(ref)) {
    if (r.type !== 'float32') continue;
    const a = asFloat32(r);
    const b = asFloat32(got[name]!);
    for (let i = 0; i < a.length; i++) {
      num += (a[i]! - b[i]!) ** 2;
      den += a[i]! ** 2;
    }
  }
  return [num, den];
}

/** Scans every target; `pruned(t, s)` gives t's weight (float32 values) pruned alone to sparsity s. */
export async function scanSensitivity(base: Model, targets: readonly WeightTarget[], o: ResolvedPruneOptions, pruned: (t: WeightTarget, s: number) => Float32Array): Promise<SensitivityScan> {
  const engine = o.engine ?? new Engine();
  const samples = Math.min(SCAN_SAMPLES, o.calibSize);
  const dataset = await openDataset(o.calibration!, base, { limit: samples, batchSize: samples });
  const batches: Feeds[] = [];
  for await (const b of dataset.batches(dataset.batchSize, { limit: samples })) batches.push(b.feeds);
  const costs = new Map<string, number[]>();
  const progress = new ProgressTracker('sensitivity', targets.length, o.onProgress);
  try {
    const refSession = await engine.createSession(base);
    const refs: Record<string, TensorData>[] = [];
    try {
      for (const f of batches) refs.push(await refSession.run(f));
    } finally {
      await refSession.release();
    }
    for (const [i, t] of targets.entries()) {
      throwIfAborted(o.signal, 'sensitivity scan');
      const copy = cloneModel(base);
      const w = copy.graph.initializers.get(t.source.name)!;
      copy.graph.removeInitializer(w, { force: true });
      const stored = t.source.constValue!;
      w.constValue = undefined;
      w.type = tensorType(stored.dataType, stored.dims);
      copy.graph.addInput(w);
      const session = await engine.createSession(copy);
      try {
        const row: number[] = [];
        for (const level of SCAN_LEVELS) {
          const values = Tensor.fromFloat32(stored.dataType, [...stored.dims], pruned(t, level), stored.name);
          let num = 0;
          let den = 0;
          for (const [k, f] of batches.entries()) {
            const out = await session.run({ ...f, [w.name]: fromIrTensor(values) });
            const [a, b] = relativeError(refs[k]!, out);
            num += a;
            den += b;
          }
          row.push(den > 0 ? num / den : 0);
        }
        costs.set(t.node.name, row);
      } finally {
        await session.release();
      }
      progress.update(i + 1, t.node.name);
    }
  } finally {
    if (!o.engine) await engine.close();
  }
  return { levels: SCAN_LEVELS, costs, samples };
}

/** Error of a layer at sparsity s: piecewise linear through (0, 0) and the scanned levels, made non-decreasing. */
function costAt(levels: number[], costs: number[], s: number): number {
  let prevS = 0;
  let prevC = 0;
  let best = 0;
  for (let i = 0; i < levels.length; i++) {
    const c = Math.max(best, costs[i]!);
    if (s <= levels[i]!) return prevC + ((c - prevC) * (s - prevS)) / (levels[i]! - prevS);
    prevS = levels[i]!;
    prevC = c;
    best = c;
  }
  // Beyond the last level: continue the last slope.
  const n = levels.length;
  const slope = n > 1 ? (prevC - Math.max(0, costs[n - 2]!)) / (levels[n - 1]! - levels[n - 2]!) : prevC / prevS;
  return prevC + Math.max(0, slope) * (s - prevS);
}

/** Per-layer sparsities meeting `sparsity` of all weights with the least summed scanned error. */
export function allocateBySensitivity(scan: SensitivityScan, targets: readonly WeightTarget[], sparsity: number): Map<WeightTarget, number> {
  const step = 0.01;
  const sizes = targets.map((t) => t.rows * t.cols);
  const total = sizes.reduce((a, b) => a + b, 0);
  let need = sparsity * total;
  const s = targets.map(() => 0);
  const cost = (i: number, x: number) => costAt(scan.levels, scan.costs.get(targets[i]!.node.name)!, x);
  while (need > 1e-9) {
    // The cheapest next step, in error per weight removed.
    let best = -1;
    let bestRate = Infinity;
    for (let i = 0; i < targets.length; i++) {
      if (s[i]! + step > MAX_LAYER_SPARSITY + 1e-9) continue;
      const rate = (cost(i, s[i]! + step) - cost(i, s[i]!)) / (step * sizes[i]!);
      if (rate < bestRate) { bestRate = rate; best = i; }
    }
    if (best < 0) break;
    const take = Math.min(step, need / sizes[best]!);
    s[best]! += take;
    need -= take * sizes[best]!;
  }
  return new Map(targets.map((t, i) => [t, Math.min(MAX_LAYER_SPARSITY, s[i]!)]));
}
