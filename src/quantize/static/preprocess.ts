/**
 * Pre-processing before calibration, so that the tensors calibrated are the ones that will run:
 * Constant nodes become initializers (paddle2onnx keeps every weight in one), ONNX Runtime's own
 * basic-level optimizer folds BatchNormalization into Conv and folds constants (its output is
 * plain ONNX), hard-swish written out as four ops becomes x * HardSigmoid(x) (a fusion ORT lacks),
 * unused opset imports it adds are dropped, and every node gets a name so that the plan can refer
 * to it.
 */
import type { Model } from '../../ir/model.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses, CLEANUP_PASSES, constantsToInitializers, foldConstants, describeFolding, type FoldReport } from '../../ir/passes/index.js';
import type { Engine } from '../../runtime/engine.js';
import { upgradeOpsetTo10 } from '../../ir/passes/upgrade-opset.js';
import { rewriteStems } from './stem-rewrite.js';
import { fuseHardSwish } from '../../ir/passes/fuse-hard-swish.js';

/** Drops opset imports of domains no node uses (ORT's optimizer writes a dozen). */
export function pruneOpsetImports(model: Model, keep: Iterable<string> = []): void {
  const used = new Set<string>(['', ...keep]);
  for (const n of model.graph.allNodes()) used.add(n.domain);
  for (const f of model.functions) {
    used.add(f.domain);
    for (const n of f.body.allNodes()) used.add(n.domain);
  }
  for (const d of [...model.opsetImports.keys()]) if (!used.has(d)) model.opsetImports.delete(d);
}

/**
 * ORT's Conv+BatchNorm fusion names the new weight and bias 'ConvBnFusion_W_<weight>' and
 * 'ConvBnFusion_BN_B_<bn bias>'; give them back the model's own names (when free), which users
 * recognise and which keep the file smaller.
 */
export function restoreFusedNames(model: Model): Map<string, string> {
  const renamed = new Map<string, string>();
  for (const g of model.graph.allGraphs()) {
    for (const v of [...g.initializers.values()]) {
      const m = /^ConvBnFusion_(?:W|BN_B)_(.+)$/.exec(v.name);
      if (!m || g.inputs.includes(v) || model.names.has(m[1]!)) continue;
      g.removeInitializer(v, { force: true });
      const old = v.name;
      v.name = model.names.fresh(m[1]!);
      renamed.set(old, v.name);
      g.addInitializer(v);
    }
  }
  return renamed;
}

/** Gives every node (in every graph) a unique name, so the plan can refer to nodes by name. */
export function nameNodes(model: Model): void {
  const seen = new Set<string>();
  for (const n of model.graph.allNodes()) {
    if (!n.name || seen.has(n.name)) n.name = model.names.fresh(n.name || n.opType);
    seen.add(n.name);
  }
}

export interface PreprocessOptions {
  /** Run ORT's basic optimizer (default true). */
  optimize?: boolean;
  /** Raise an older default-domain opset to 10 (ORT writes QLinearConv, an opset-10 op, when it fuses). */
  upgradeTo10?: boolean;
  /** Rewrite stride-2 few-channel stem convolutions as SpaceToDepth + Conv (faster in int8). */
  rewriteStems?: boolean;
}

export interface Preprocessed {
  model: Model;
  notes: string[];
  /** Constant nodes folded into weights (float16-stored weights behind Casts, ...). */
  folded: FoldReport;
  /** Initializers renamed (ORT's 'ConvBnFusion_W_x' back to 'x'): old name -> new name. */
  renamed: Map<string, string>;
  /** Hard-swish patterns fused: the float model itself got faster, so speed is also worth stating against the model given. */
  fusedHardSwish: number;
}

export async function preprocess(model: Model, engine: Engine, options: PreprocessOptions = {}): Promise<Preprocessed> {
  const notes: string[] = [];
  let m = cloneModel(model);
  runPasses(m, [constantsToInitializers, ...CLEANUP_PASSES]);
  // Before ORT's optimizer: its BatchNorm fusion needs the Conv weight to be an initializer.
  const folded = foldConstants(m);
  const foldNote = describeFolding(folded);
  if (foldNote) {
    notes.push(foldNote);
    runPasses(m, CLEANUP_PASSES);
  }
  const from = m.opset('') ?? 1;
  if (options.upgradeTo10 && upgradeOpsetTo10(m)) {
    notes.push(`upgraded the default-domain opset from ${from} to 10: ONNX Runtime fuses Q/DQ into QLinearConv/QLinearMatMul, which exist from opset 10`);
  }
  let swishes = 0;
  if (options.optimize ?? true) {
    const optimized = await engine.optimize(m, 'basic');
    optimized.sourcePath = model.sourcePath;
    optimized.baseDir = model.baseDir;
    // The optimizer keeps declared graph input/output types; restore the original IR version and producer.
    optimized.irVersion = model.irVersion;
    optimized.producerName = model.producerName;
    optimized.producerVersion = model.producerVersion;
    m = optimized;
    runPasses(m, [constantsToInitializers, ...CLEANUP_PASSES]);
    swishes = fuseHardSwish(m);
    if (swishes) {
      runPasses(m, CLEANUP_PASSES);
      notes.push(`fused ${swishes} hard-swish activation${swishes > 1 ? 's' : ''} written as x * Clip(x + 3, 0, 6) / 6 into x * HardSigmoid(x) (same function, half the ops; ONNX Runtime does not fuse it)`);
    }
  }
  pruneOpsetImports(m);
  const renamed = restoreFusedNames(m);
  nameNodes(m);
  if (options.rewriteStems) {
    const stems = rewriteStems(m);
    if (stems.length) notes.push(`rewrote the stride-2 stem convolution${stems.length > 1 ? 's' : ''} ${stems.join(', ')} as SpaceToDepth + Conv (same result, faster int8 kernels)`);
  }
  return { model: m, notes, folded, renamed, fusedHardSwish: swishes };
}
