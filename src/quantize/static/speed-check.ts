/**
 * The speed check: load the quantized model in ONNX Runtime with its optimizer on, read back the
 * optimized graph and see which planned Q/DQ groups became int8 kernels. ORT keeps a fused node's
 * name at level 'extended' (QLinearConv '/conv1/Conv' replaces Conv '/conv1/Conv'), so planned
 * nodes are matched by name. Unfused groups get the reason from a lint of the written QDQ graph
 * against ORT's fusion rules (docs/research/ort-quantization-facts.md). Loading the model is also
 * the proof that ORT accepts it: a model ORT rejects is never written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { loadModel } from '../../onnx/io.js';
import type { Engine } from '../../runtime/engine.js';
import { GRAPH_ONLY_CONFIG } from '../../runtime/graph-only-config.js';
import { RuntimeError } from '../../errors.js';
import type { QuantPlan } from './plan.js';
import { lintQdqGroup } from './fusion-lint.js';
import type { LatencyCheck } from './placement-search.js';

export interface FusedGroup {
  node: string;
  op: string;
  /** What ORT runs instead ('QLinearConv', 'com.microsoft.QLinearAdd', ...). */
  kernel: string;
}

export interface UnfusedGroup {
  node: string;
  op: string;
  reason: string;
}

export interface SpeedCheckReport {
  /** ORT optimization level the check used. */
  level: 'extended';
  /** Q/DQ groups planned around compute ops (Conv, MatMul, Add, ...). */
  planned: number;
  fused: FusedGroup[];
  unfused: UnfusedGroup[];
  /** QuantizeLinear/DequantizeLinear nodes still in ORT's optimized graph. */
  remainingQdq: number;
  /** Measured float vs quantized latency (when calibration data gave a sample input). */
  latency?: LatencyCheck;
  warnings: string[];
}

/** Adds the measured latency to the report, with a warning when int8 is not faster. */
export function attachLatency(report: SpeedCheckReport, latency: LatencyCheck, searched: boolean): void {
  report.latency = latency;
  // Below 0.95: a few percent either way is measurement noise on a busy machine.
  if (latency.speedup < 0.95) {
    report.warnings.push(`the quantized model ran ${latency.speedup.toFixed(2)}x the speed of float32 here (${latency.quantizedMs.toFixed(3)} ms vs ${latency.floatMs.toFixed(3)} ms, batch ${latency.batch ?? 1}, 1 thread)${searched ? ' even with the fastest placement' : '; try --placement auto'}: this model is too small or too elementwise-heavy for ONNX Runtime's int8 kernels; consider --mode dynamic or keeping it in float`);
  }
}

const isQdq = (n: Node) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear';

function optimizedGraph(engine: Engine, model: Model): Promise<Model> {
  const dir = mkdtempSync(join(tmpdir(), 'slimnet-speed-'));
  const path = join(dir, 'optimized.onnx');
  return engine.createSession(model, { graphOptimizationLevel: 'extended', optimizedModelPath: path, providers: ['cpu'], config: { ...GRAPH_ONLY_CONFIG } })
    .then(async (s) => {
      await s.release();
      return loadModel(path); // read into memory: the file goes away below
    })
    .catch((err: unknown) => {
      throw new RuntimeError(`ONNX Runtime rejected the quantized model (${(err as Error).message}); nothing was written. Please report this with the model and options`);
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

export async function speedCheck(quantized: Model, plan: QuantPlan, engine: Engine, options: { activations: string; format: string }): Promise<SpeedCheckReport> {
  const optimized = await optimizedGraph(engine, quantized);
  const byName = new Map<string, Node>();
  for (const n of optimized.graph.allNodes()) byName.set(n.name, n);
  const written = new Map<string, Node>();
  for (const n of quantized.graph.allNodes()) written.set(n.name, n);

  const planned = plan.nodes.filter((n) => n.action === 'quantize');
  const fused: FusedGroup[] = [];
  const unfused: UnfusedGroup[] = [];
  for (const p of planned) {
    const after = byName.get(p.node);
    if (after && (after.opType !== p.op || after.domain !== '')) {
      fused.push({ node: p.node, op: p.op, kernel: after.domain ? `${after.domain}.${after.opType}` : after.opType });
      continue;
    }
    const node = written.get(p.node);
    const reason = node ? lintQdqGroup(node, options) : undefined;
    unfused.push({ node: p.node, op: p.op, reason: after ? reason ?? 'ORT kept it in float (reason not known to slimnet)' : 'ORT removed or merged the node' });
  }
  const remainingQdq = [...optimized.graph.allNodes()].filter(isQdq).length;
  const warnings: string[] = [];
  const is16 = options.activations === 'uint16' || options.activations === 'int16';
  if (!is16 && planned.length > 0 && unfused.length * 2 > planned.length) {
    warnings.push(`ONNX Runtime fused only ${fused.length} of ${planned.length} quantized groups into int8 kernels: this model will likely run slower than float32 (see the unfused list)`);
  } else if (!is16 && unfused.length > 0) {
    warnings.push(`${unfused.length} of ${planned.length} quantized groups stay in float in ONNX Runtime (see the unfused list)`);
  }
  return { level: 'extended', planned: planned.length, fused, unfused, remainingQdq, warnings };
}
