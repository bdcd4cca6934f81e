/**
 * Weight-only quantization: MatMul/Gemm weights stored in 4 or 8 bits per block of K, activations
 * stay float. For models whose size and memory traffic are dominated by weights. The output runs as
 * com.microsoft.MatMulNBits, or as blocked DequantizeLinear -> MatMul that ORT fuses into it.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses } from '../../ir/passes/pass.js';
import { constantsToInitializers } from '../../ir/passes/index.js';
import { QUANTIZED_CLEANUP_PASSES } from '../cleanup.js';
import { foldStoredWeights, restoreStoredWeights } from '../fold-weights.js';
import { Engine } from '../../runtime/engine.js';
import { describeTarget, resolveTarget } from '../../target/resolve.js';
import { OptionError, throwIfAborted } from '../../errors.js';
import { ProgressTracker } from '../../progress.js';
import { opSupport } from '../../ops/op-support.js';
import { excludeMatch } from '../static/options.js';
import { analyzeLinear, type LinearOp } from '../linear.js';
import { DecisionLog, refuseIfNothingDone } from '../decisions.js';
import type { QuantizeResult } from '../types.js';
import { resolveWeightOnlyOptions, weightOnlySettings, type ResolvedWeightOnlyOptions, type WeightOnlyOpType, type WeightOnlyOptions } from './options.js';
import { quantizeRtn, type BlockQuantized, type BlockSpec } from './block-quant.js';
import { emitBlockedDq, emitMatMulNBits } from './emit.js';
import { emitGatherBlockQuantized, emitGatherDequantize, quantizeTable } from './gather.js';
import { analyzeEmbedding, sharedTableNote, type EmbeddingLookup } from '../embedding-table.js';
import { findLayerRule, formatLayerRule, type ResolvedLayerRule } from './layer-weights.js';
import { quantizeGptq } from './gptq.js';
import { DenseProducts } from '../../runtime/dense-products.js';
import { applyAwq, type AwqResult } from './awq.js';
import type { StatisticsGroup } from './input-statistics.js';
import { formatBytes } from '../../calibrate/data/read-file.js';
import { toFloat16Activations } from './float16-activations.js';
import { checkLoadsInChild } from '../../runtime/load-check.js';

export type { WeightOnlyOptions } from './options.js';

const MIN_BLOCK = 16;
/**
 * Larger outputs (language models) are not loaded in a check process: streaming keeps this
 * process to a few layers of a model ORT would hold whole in the check (0.79 GiB of RSS for a 1B
 * decoder whose int4 output is 673 MiB, docs/quantization-modes.md).
 */
export const LOAD_CHECK_MAX_BYTES = 512 * 1024 * 1024;
/** Smaller tensors (scales of small layers, biases) stay in memory: not worth a file read each. */
const SPILL_MIN_BYTES = 4096;

/**
 * The block size used for a weight with K rows: the requested one, or, when K is smaller, the
 * smallest power of two >= K (>= 16). One block then spans the whole column either way, so the
 * numbers are the same as with the requested size, without storing padding.
 */
export function effectiveBlockSize(K: number, requested: number): number {
  let p = MIN_BLOCK;
  while (p < K) p *= 2;
  return Math.min(requested, p);
}

function defaultReason(node: Node): string {
  if (node.domain === 'com.microsoft' && (node.opType === 'MatMulNBits' || node.opType === 'GatherBlockQuantized')) return 'already weight-only quantized';
  if (node.opType === 'Gather' && node.domain === '') return 'not an embedding lookup (the gathered data is not a constant float table)';
  return 'no MatMul/Gemm weight: weight-only mode quantizes MatMul and Gemm weights (and Gather tables with opTypes Gather)';
}

interface Candidates {
  linear: LinearOp[];
  tables: EmbeddingLookup[];
}

function candidates(model: Model, o: ResolvedWeightOnlyOptions, log: DecisionLog): Candidates {
  const found: Candidates = { linear: [], tables: [] };
  for (const g of model.graph.allGraphs()) {
    for (const node of g.nodes) {
      const kind = opSupport(node.opType, node.domain)?.weightOnly;
      if (!kind) continue;
      const analyzed = kind === 'matmul' ? analyzeLinear(node) : analyzeEmbedding(node);
      // A Gather that is not an embedding lookup is not a candidate at all.
      if (kind === 'embedding' && typeof analyzed === 'string') continue;
      const excluded = o.exclude.find((p) => excludeMatch(p, node));
      if (!o.opTypes.has(node.opType as WeightOnlyOpType)) log.skipped(node, `${node.opType} is not in the op types to quantize (${[...o.opTypes].join(', ')})`);
      else if (excluded !== undefined) log.skipped(node, `excluded by --exclude ${excluded}`);
      else if (typeof analyzed === 'string') log.skipped(node, analyzed);
      else if ('K' in analyzed) found.linear.push(analyzed);
      else found.tables.push(analyzed);
    }
  }
  return found;
}

/**
 * The ops in the groups they are quantized in: RTN needs no data (one group); GPTQ and AWQ get
 * their calibration's groups (input-statistics.ts, loaded only then), one per part of a model
 * calibrated layer by layer.
 */
async function* calibrationGroups(model: Model, ops: readonly LinearOp[], o: ResolvedWeightOnlyOptions): AsyncGenerator<StatisticsGroup> {
  if (o.algorithm === 'rtn' || !ops.length) {
    yield { ops: [...ops] };
    return;
  }
  const { statisticsByPart } = await import('./input-statistics.js');
  const extra = o.algorithm === 'awq' ? (await import('./awq-stats.js')).awqExtraRequests : undefined;
  yield* statisticsByPart(model, ops, o, o.algorithm.toUpperCase(), extra);
}

export async function quantizeWeightOnly(model: Model, options: WeightOnlyOptions = {}): Promise<QuantizeResult> {
  const o = resolveWeightOnlyOptions(options);
  const opset = model.opset('') ?? 0;
  if (o.format === 'qdq' && opset < 21) {
    throw new OptionError(`--format qdq needs blocked DequantizeLinear (ai.onnx opset 21); ${model.label()} uses opset ${opset}. Use --format matmulnbits`);
  }
  const engine = o.engine ?? new Engine();
  const target = await resolveTarget(o.target, engine).finally(() => (o.engine ? undefined : engine.close()));
  const result = cloneModel(model);
  runPasses(result, [constantsToInitializers]);
  const log = new DecisionLog('weight-only');
  const folded = foldStoredWeights(result, log);
  log.note(`${describeTarget(target)}; MatMulNBits has no int16 pair sums, so its int8 path is exact on every target (docs/research/x86-saturation.md)`);
  if (target.runtime === 'wasm') log.warn("onnxruntime-web's wasm backend has no int4/int8 MatMulNBits kernel: it dequantizes the weights on every run (0.89x float with 128 rows, 0.08x for one row, measured), so weight-only shrinks the file there but slows inference; accuracy_level is ignored");
  if (o.format === 'qdq' && o.accuracyLevelGiven) {
    log.warn(`--accuracy-level ${o.accuracyLevel} has no effect with --format qdq: ONNX Runtime sets MatMulNBits' accuracy_level at load time from the session option session.qdq_matmulnbits_accuracy_level (default 4)`);
  }
  if (o.format === 'matmulnbits' && !o.accuracyLevelGiven) {
    const where = target.name === 'x86-vnni' ? '' : ` (not measured on ${target.name})`;
    log.note(`accuracy_level 4 (default): MatMulNBits quantizes each block of its input to int8 at run time, measured 1.2-2.4x faster than float math (level 0) on AVX-512 VNNI${where}; --accuracy-level 0 keeps float activations`);
  }
  const found = candidates(result, o, log);
  const tables = found.tables;
  const ops = found.linear;
  // Per-layer rules (--layer-weights): the first whose expression matches the node or weight name.
  const used = new Set<ResolvedLayerRule>();
  const choose = (node: Node, weight: string, K: number) => {
    const rule = findLayerRule(o.layers, [node.name, weight]);
    if (rule) used.add(rule);
    const requested = rule?.blockSize ?? o.blockSize;
    const spec: BlockSpec = { bits: rule?.bits ?? o.bits, blockSize: effectiveBlockSize(K, requested), symmetric: o.symmetric };
    const kind = `${o.symmetric ? 'int' : 'uint'}${spec.bits}`;
    const blocks = spec.blockSize === requested ? `block ${spec.blockSize}` : `block ${spec.blockSize} (K=${K} is below the requested ${requested}: one block per column)`;
    return { spec, kind, blocks, why: rule ? ` (--layer-weights ${formatLayerRule(rule.rule)})` : '' };
  };
  const specOf = (op: LinearOp): BlockSpec => choose(op.node, op.weightValue.name, op.K).spec;
  // A weight shared by several nodes is quantized once; its codes are kept until its last consumer.
  // AWQ's own copy of a weight others read is quantized for its node alone.
  // Consumers of one weight with different --layer-weights rules get one copy per spec.
  const keyOf = (op: LinearOp) => {
    const spec = specOf(op);
    return `${op.weightValue.name}|${op.weightKey}|${spec.bits}:${spec.blockSize}`;
  };
  const pending = new Map<string, number>();
  for (const op of ops) pending.set(keyOf(op), (pending.get(keyOf(op)) ?? 0) + 1);
  const cache = new Map<string, BlockQuantized>();
  const progress = new ProgressTracker('quantize', ops.length + tables.length, o.onProgress);
  // Streaming: the new tensors of a rewritten node go to the spill file right away.
  const park = (node: Node) => {
    if (!o.spill) return;
    for (const v of node.inputs) {
      const t = v?.constValue;
      if (t && !t.externalLocation && t.byteLength >= SPILL_MIN_BYTES) v!.constValue = o.spill.park(t);
    }
  };
  let usedContrib = false;
  let done = 0;
  const partNotes: NonNullable<StatisticsGroup['part']>[] = [];
  /** GPTQ's layers whose X^T X was summed over fewer rows than it has inputs (singular). */
  const fewRows: { op: string; rows: number; K: number }[] = [];
  // GPTQ's and AWQ's matrix products run in ONNX Runtime: one set of sessions and work arrays for every layer.
  const products = o.algorithm !== 'rtn' && ops.length ? new DenseProducts() : undefined;
  try {
    for await (const group of calibrationGroups(result, ops, o)) {
      let groupOps = group.ops;
      // GPTQ uses the first consumer's inputs for a shared weight.
      const hessians = o.algorithm === 'gptq' ? (await import('./gptq-hessians.js')).hessiansOf(group.stats, groupOps) : undefined;
      if (hessians) {
        for (const op of groupOps) {
          const rows = group.stats?.rows(op);
          if (rows !== undefined && rows < op.K) fewRows.push({ op: op.node.name || op.node.opType, rows, K: op.K });
        }
      }
      let awq: AwqResult | undefined;
      if (o.algorithm === 'awq' && groupOps.length) {
        const awqStats = await import('./awq-stats.js');
        awq = await applyAwq(groupOps, awqStats.awqStatsOf(group.stats, groupOps), specOf, products!);
        // The scaled weights are new tensors: read each MatMul again.
        groupOps = groupOps.map((op) => analyzeLinear(op.node) as LinearOp);
      }
      if (group.part) partNotes.push(group.part);
      for (const op of groupOps) {
        throwIfAborted(o.signal, 'weight-only quantization');
        const graph = op.node.graph!;
        const { spec, kind, blocks, why } = choose(op.node, op.weightValue.name, op.K);
        const key = keyOf(op);
        const left = pending.get(key)! - 1;
        pending.set(key, left);
        const own = awq?.weights.get(op.node);
        let q = own ? undefined : cache.get(key);
        let algo = o.algorithm;
        if (!q) {
          const h = hessians?.get(op.input.name);
          if (o.algorithm === 'gptq' && !h) algo = 'rtn';
          q = h ? await quantizeGptq(op.weight(), op.K, op.N, spec, h, products!, { dampPercent: o.dampPercent }) : quantizeRtn(own ?? op.weight(), op.K, op.N, spec);
          // Streaming: the float weight (read from external data) is dropped as soon as it is quantized.
          op.weightValue.constValue?.release();
          if (!own && left > 0) cache.set(key, q);
        }
        if (left <= 0) cache.delete(key);
        const algoNote = awq?.notes.get(op.node) ?? (algo === o.algorithm ? algo.toUpperCase() : `RTN (no calibration statistics reached this input, ${o.algorithm.toUpperCase()} not applied)`);
        if (o.format === 'matmulnbits') {
          const r = emitMatMulNBits(result, graph, op, q, o.accuracyLevel);
          park(r.node);
          log.quantized(r.node, `${kind} weights${why} [${op.K}x${op.N}], ${blocks}, ${algoNote}, accuracy_level ${o.accuracyLevel}${r.biasFolded ? ', bias Add folded in' : ''}`);
          usedContrib = true;
        } else {
          const r = emitBlockedDq(result, graph, op, q);
          for (const h of r.helpers) park(h);
          log.quantized(r.matmul, `${kind} weights${why} [${op.K}x${op.N}], ${blocks}, ${algoNote}, blocked DequantizeLinear`);
          for (const h of r.helpers) log.quantized(h, `part of the weight-only form of ${r.matmul.name}`);
        }
        // A float weight nothing reads any more goes now, not at the final cleanup: AWQ's scaled
        // weights are in memory, not in external data (a 1.1B decoder's would add up to 4 GB),
        // and the ops analyzed before AWQ still point at the value: its tensor is let go too.
        const wv = op.weightValue;
        if (wv.uses.length === 0 && wv.isInitializer && !wv.isGraphInput && !wv.isGraphOutput) {
          wv.graph?.removeInitializer(wv);
          wv.constValue = undefined;
        }
        progress.update(++done);
      }
      // Layer by layer: this part's statistics and work arrays go before the next part runs
      // (collected there, collect-by-parts.ts). Released explicitly: this frame's variables
      // (group, hessians, awq) still point at them while the next part is calibrated.
      if (group.part) {
        hessians?.clear();
        awq?.weights.clear();
        group.stats?.stats.release();
        products?.forgetWork();
      }
    }
  } finally {
    await products?.release();
  }
  if (fewRows.length) {
    const worst = fewRows.reduce((a, b) => (b.K / b.rows > a.K / a.rows ? b : a));
    const need = Math.max(...fewRows.map((f) => f.K));
    log.note(`GPTQ: ${fewRows.length} of ${ops.length} weights saw fewer calibration rows than they have inputs (${worst.op}: ${worst.rows} rows for K=${worst.K}), so their X^T X is singular and GPTQ may round them worse than RTN would; calibrate on at least ${need} rows (samples x tokens: more or longer samples, --calib-size)`);
  }
  if (partNotes.length) {
    const kept = Math.max(...partNotes.map((p) => p.handedOnBytes));
    log.note(`${o.algorithm.toUpperCase()} calibrated layer by layer: the model ran in ${partNotes.length} parts, one at a time, each part's statistics used and released before the next (at most ${formatBytes(kept)} of activations kept between parts)`);
  }
  for (const [i, lookup] of tables.entries()) {
    throwIfAborted(o.signal, 'weight-only quantization');
    const chosen = choose(lookup.node, lookup.table.name, lookup.width);
    const { blocks, why } = chosen;
    // Standard ONNX gathers 8-bit rows at most (gather.ts): a 4-bit table is written in 8 bits there.
    const widened = o.format === 'qdq' && chosen.spec.bits !== 8;
    const spec = widened ? { ...chosen.spec, bits: 8 as const } : chosen.spec;
    const kind = `${o.symmetric ? 'int' : 'uint'}${spec.bits}`;
    const q = quantizeTable(lookup, spec);
    lookup.table.constValue?.release();
    if (o.format === 'qdq') {
      const node = emitGatherDequantize(result, lookup, q);
      const helpers = node.inputs.map((v) => v!.producer!);
      for (const h of helpers) park(h);
      park(node);
      log.quantized(node, `${kind} embedding table${why} [${lookup.rows}x${lookup.width}], ${blocks} along each row, RTN, rows gathered then dequantized (blocked DequantizeLinear)${widened ? `; 8-bit, not ${chosen.spec.bits}-bit: ONNX's Gather has no 4-bit type (--format matmulnbits writes 4-bit tables)` : ''}${sharedTableNote(lookup.table)}`);
      for (const h of helpers) log.quantized(h, `part of the 8-bit form of ${node.name || node.output(0).name}`);
    } else {
      const node = emitGatherBlockQuantized(result, lookup, q);
      park(node);
      log.quantized(node, `${kind} embedding table${why} [${lookup.rows}x${lookup.width}], ${blocks} along each row, RTN${sharedTableNote(lookup.table)}`);
      usedContrib = true;
    }
    progress.update(done + i + 1);
  }
  for (const r of o.layers) if (!used.has(r)) log.warn(`--layer-weights ${formatLayerRule(r.rule)} matched no quantized node or weight name (the regular expression is tested against names such as ${ops[0]?.node.name || tables[0]?.node.name || '?'} and ${ops[0]?.weightValue.name ?? tables[0]?.table.name ?? '?'})`);
  if (usedContrib && !result.opsetImports.has('com.microsoft')) result.opsetImports.set('com.microsoft', 1);
  restoreStoredWeights(result, folded, log);
  runPasses(result, QUANTIZED_CLEANUP_PASSES);
  const summary = log.summary(model, result, defaultReason);
  refuseIfNothingDone(summary, model, 'weight-only');
  const written = o.activations === 'float16' ? await toFloat16Activations(result, summary, o.engine, o.signal) : result;
  throwIfAborted(o.signal, 'weight-only quantization');
  const check = await checkLoadsInChild(written, 'the weight-only model', {
    maxBytes: LOAD_CHECK_MAX_BYTES,
    maxBytesReason: 'a check process would hold the whole model in memory beside this one, and take as long again as writing it',
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  (summary.notes ??= []).push(check.note);
  return { model: written, summary, settings: weightOnlySettings(o, target.name) };
}
