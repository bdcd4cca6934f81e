/**
 * Dynamic quantization: weights become int8 ahead of time, activations are quantized at run time
 * from their actual range, so no calibration data is needed. Suits transformers and RNNs whose
 * activation ranges vary from input to input.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { cloneModel } from '../../ir/clone.js';
import { runPasses } from '../../ir/passes/pass.js';
import { constantsToInitializers } from '../../ir/passes/index.js';
import { QUANTIZED_CLEANUP_PASSES } from '../cleanup.js';
import { foldStoredWeights, restoreStoredWeights } from '../fold-weights.js';
import { OptionError, throwIfAborted } from '../../errors.js';
import { ProgressTracker } from '../../progress.js';
import { Engine } from '../../runtime/engine.js';
import { describeTarget, resolveTarget } from '../../target/resolve.js';
import { wasmFloatReason } from '../../target/wasm-kernels.js';
import { opSupport } from '../../ops/op-support.js';
import { excludeMatch } from '../static/options.js';
import { analyzeLinear } from '../linear.js';
import { DecisionLog, refuseIfNothingDone } from '../decisions.js';
import type { QuantizeResult } from '../types.js';
import { dynamicSettings, resolveDynamicOptions, STORED_WEIGHT_OPS, type DynamicOpType, type DynamicQuantizeOptions } from './options.js';
import { STORED_CONV_DETAIL, storeConvWeights } from './conv-storage.js';
import { Int8WeightCache, toDynamicQuantizeMatMul, toMatMulInteger } from './matmul.js';
import { lstmBlocker, toDynamicQuantizeLSTM } from './lstm.js';
import { attentionBlocker, toQAttention } from './attention.js';
import { quantizeEmbedding } from './embedding.js';
import { analyzeEmbedding } from '../embedding-table.js';
import { checkLoadsInChild, prepareLoadCheck } from '../../runtime/load-check.js';

export type { DynamicQuantizeOptions } from './options.js';

function defaultReason(node: Node): string {
  if (node.domain === 'com.microsoft' && (node.opType.startsWith('DynamicQuantize') || node.opType === 'QAttention')) return 'already quantized';
  const sup = opSupport(node.opType, node.domain);
  if (sup?.dynamicSkip) return sup.dynamicSkip;
  if (sup?.dynamic === 'embedding') return 'not an embedding lookup (the gathered data is not a constant float table)';
  return 'no weights to quantize: dynamic mode quantizes MatMul, Gemm, LSTM and Attention weights, stores Conv weights in int8 (and Gather tables with opTypes Gather)';
}

/** ': 12 weights uint8 (U8U8), 5 int8 within the pair budget' when the target needed either. */
function encodingCounts(summary: { quantized: { detail: string }[] }): string {
  const u8 = summary.quantized.filter((d) => /U8U8/.test(d.detail)).length;
  const safe = summary.quantized.filter((d) => /pair budget/.test(d.detail)).length;
  if (!u8 && !safe) return '';
  return `: ${[u8 ? `${u8} op(s) with uint8 weights (U8U8 kernels)` : '', safe ? `${safe} with int8 weights within the int16 pair budget` : ''].filter(Boolean).join(', ')}`;
}

export async function quantizeDynamic(model: Model, options: DynamicQuantizeOptions = {}): Promise<QuantizeResult> {
  const o = resolveDynamicOptions(options);
  const opset = model.opset('') ?? 0;
  if (o.format === 'onnx' && opset < 11) {
    throw new OptionError(`--format onnx needs DynamicQuantizeLinear (ai.onnx opset 11); ${model.label()} uses opset ${opset}. Use --format contrib`);
  }
  prepareLoadCheck();
  const engine = options.engine ?? new Engine();
  const target = await resolveTarget(o.target, engine).finally(() => (options.engine ? undefined : engine.close()));
  const encoding = { policy: o.weights, reduceRange: o.reduceRange, u8s8Exact: target.u8s8Exact };
  const result = cloneModel(model);
  // Exporters such as paddle2onnx keep weights in Constant nodes; make them initializers first.
  runPasses(result, [constantsToInitializers]);
  const log = new DecisionLog('dynamic');
  const folded = foldStoredWeights(result, log);
  const weights = new Int8WeightCache(result, o.perChannel, encoding);
  const work = [...result.graph.allGraphs()].flatMap((g) => g.nodes.map((n) => [g, n] as const));
  const progress = new ProgressTracker('quantize', work.length, o.onProgress);
  let usedContrib = false;
  let done = 0;
  const convs = new Set<Node>();
  for (const [graph, node] of work) {
    throwIfAborted(o.signal, 'dynamic quantization');
    progress.update(++done);
    if (!node.graph) continue; // folded away by an earlier rewrite
    const stores = node.domain === '' && STORED_WEIGHT_OPS.has(node.opType as DynamicOpType);
    const sup = opSupport(node.opType, node.domain);
    if (!sup || (!sup.dynamic && !stores)) continue;
    // A Gather that is not an embedding lookup (shape arithmetic, indexing) is not a candidate at all.
    const lookup = sup.dynamic === 'embedding' ? analyzeEmbedding(node) : undefined;
    if (typeof lookup === 'string') continue;
    if (!o.opTypes.has(node.opType as DynamicOpType)) {
      log.skipped(node, `${node.opType} is not in the op types to quantize (${[...o.opTypes].join(', ')})`);
      continue;
    }
    const excluded = o.exclude.find((p) => excludeMatch(p, node));
    if (excluded !== undefined) {
      log.skipped(node, `excluded by --exclude ${excluded}`);
      continue;
    }
    if (stores) {
      convs.add(node);
      continue;
    }
    const slower = target.runtime === 'wasm' ? wasmFloatReason(node) : undefined;
    if (slower) {
      log.skipped(node, slower);
      continue;
    }
    if (sup.dynamic === 'matmul') {
      const op = analyzeLinear(node);
      if (typeof op === 'string') {
        log.skipped(node, op);
        continue;
      }
      const w = weights.get(op);
      if (o.format === 'contrib') {
        const r = toDynamicQuantizeMatMul(result, graph, op, w);
        log.quantized(r.node, r.detail);
        usedContrib = true;
      } else {
        const r = toMatMulInteger(result, graph, op, w);
        log.quantized(r.nodes[0]!, r.detail);
        for (const n of r.nodes.slice(1)) log.quantized(n, `part of the dynamic int8 form of ${r.nodes[0]!.name}`);
      }
    } else if (sup.dynamic === 'attention') {
      const blocker = attentionBlocker(node);
      if (blocker) {
        log.skipped(node, blocker);
        continue;
      }
      const r = toQAttention(result, graph, node, o.perChannel, encoding);
      log.quantized(node, r.detail);
      log.quantized(r.helper, `part of the dynamic int8 form of ${node.name || node.output(0).name}`);
      usedContrib = true;
    } else if (sup.dynamic === 'lstm') {
      const blocker = lstmBlocker(node);
      if (blocker) {
        log.skipped(node, blocker);
        continue;
      }
      log.quantized(node, toDynamicQuantizeLSTM(result, graph, node, o.perChannel, encoding));
      usedContrib = true;
    } else {
      const r = quantizeEmbedding(result, graph, lookup!, o.reduceRange);
      log.quantized(r.nodes[0]!, r.detail);
      for (const n of r.nodes.slice(1)) log.quantized(n, 'part of the int8 embedding lookup');
    }
  }
  if (usedContrib && !result.opsetImports.has('com.microsoft')) result.opsetImports.set('com.microsoft', 1);
  const stored = storeConvWeights(result, convs, o.perChannel);
  for (const n of stored.convs) log.skipped(n, STORED_CONV_DETAIL);
  for (const n of stored.decoders) log.skipped(n, 'decodes an int8-stored convolution weight (folded by ONNX Runtime when it loads the model)');
  restoreStoredWeights(result, folded, log);
  runPasses(result, QUANTIZED_CLEANUP_PASSES);
  const summary = log.summary(model, result, defaultReason);
  if (!stored.convs.length) refuseIfNothingDone(summary, model, 'dynamic');
  (summary.notes ??= []).push(`${describeTarget(target)}${encodingCounts(summary)}`);
  if (o.weights === 'auto' && summary.quantized.some((d) => /U8U8/.test(d.detail))) {
    // Dynamic mode has no data to weigh the faster store by its error (static mode does): say what it trades.
    summary.notes.push('uint8 weights keep full 8-bit precision; --weights int8-safe stores int8 within the int16 pair budget instead, also exact, for the faster U8S8 kernels (BERT-width encoder on AVX-512 VNNI: 2.71x fp32 against 1.55x for uint8, 1.2 dB less output SQNR; npm run bench int8-arithmetic)');
  }
  // After the target's notes, which come first in every dynamic summary.
  if (stored.convs.length) summary.notes.push(`${stored.convs.length} convolution weight(s) stored in int8 (computed in float: the file shrinks, the speed stays; --mode static makes convolutions int8)`);
  const atRisk = summary.quantized.filter((d) => /can saturate on this target/.test(d.detail));
  if (atRisk.length) {
    summary.warnings.push(`${atRisk.length} op(s) keep plain int8 weights (--weights int8) whose u8 x s8 pairs can saturate in the int16 sums of ${target.name}'s kernels and lose accuracy there; the default (--weights auto) stores them exactly`);
  }
  // Nothing loads the dynamic model in this process: the check process is the first ORT to see it.
  throwIfAborted(o.signal, 'dynamic quantization');
  const check = await checkLoadsInChild(result, 'the quantized model', { ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  summary.notes.push(check.note);
  return { model: result, summary, settings: dynamicSettings(o, target.name) };
}
