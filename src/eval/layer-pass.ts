/**
 * The measuring pass of per-layer analysis: the candidate and its float twin run on the same
 * batches, and every quantizer's noise and clipping, every FP32 activation range and every layer
 * output's error are accumulated batch by batch (nothing but the primary outputs is kept, so memory
 * does not grow with the samples or the number of tensors).
 */
import type { Feeds, Session, TensorData } from '../runtime/types.js';
import { asFloat32 } from '../runtime/tensor-data.js';
import { throwIfAborted } from '../errors.js';
import { feedsFor } from './model-runs.js';
import { representableRange, type QdqStructure, type QuantLayer, type Quantizer } from './qdq-structure.js';
import { ClipCounter, NoiseAccumulator } from './layer-stats.js';
import { applyFold, type FoldedActivation } from './float-counterparts.js';

export interface ActivationStats {
  /** The DQ output against the Q input, both from the candidate: this quantizer's own noise. */
  noise: NoiseAccumulator;
  /** The FP32 values (from the twin): the range the quantizer should have covered. */
  fp32: NoiseAccumulator;
  clip: ClipCounter;
}

export interface LayerPass {
  actStats: Map<Quantizer, ActivationStats>;
  layerOut: Map<QuantLayer, NoiseAccumulator>;
  /** Primary output of each batch: the twin's (the target of every comparison) and the candidate's. */
  twinPrimary: TensorData[];
  candPrimary: TensorData[];
}

/** Names to fetch: the float tensors quantizers read and layers write (not graph inputs), and the DQ outputs. */
export function passTensors(structure: QdqStructure, graphInputs: Set<string>): { floats: string[]; dequantized: string[] } {
  const activations = structure.quantizers.filter((q) => q.kind === 'activation');
  const floats = [...new Set([...activations.map((q) => q.float!.name), ...structure.layers.map((l) => l.node.output(0).name)])].filter((n) => !graphInputs.has(n));
  return { floats, dequantized: activations.map((q) => q.dequantized.name) };
}

/**
 * A quantizer that folded a Relu/Clip stands for act(x): its noise and clipping are measured against
 * act(x), and its FP32 range is that of act(x).
 */
export async function runLayerPass(structure: QdqStructure, folds: Map<Quantizer, FoldedActivation>, cand: Session, twin: Session, batches: Feeds[], output: string, graphInputs: Set<string>, signal?: AbortSignal): Promise<LayerPass> {
  const { floats, dequantized } = passTensors(structure, graphInputs);
  const actStats = new Map<Quantizer, ActivationStats>();
  for (const q of structure.quantizers) {
    if (q.kind !== 'activation') continue;
    const r = representableRange(q.params);
    const half = q.params.scale[0]! / 2;
    actStats.set(q, { noise: new NoiseAccumulator(), fp32: new NoiseAccumulator(), clip: new ClipCounter(r.min - half, r.max + half) });
  }
  const layerOut = new Map(structure.layers.map((l) => [l, new NoiseAccumulator()]));
  const twinPrimary: TensorData[] = [];
  const candPrimary: TensorData[] = [];
  for (const feeds of batches) {
    throwIfAborted(signal, 'per-layer analysis');
    const c = await cand.run(feedsFor(cand, feeds), [output, ...floats, ...dequantized]);
    const t = await twin.run(feedsFor(twin, feeds), [output, ...floats]);
    const get = (outs: Record<string, TensorData>, name: string) => asFloat32(outs[name] ?? feeds[name]!);
    for (const [q, st] of actStats) {
      const fold = folds.get(q);
      const x = applyFold(get(c, q.float!.name), fold);
      st.noise.add(x, asFloat32(c[q.dequantized.name]!));
      st.clip.add(x);
      st.fp32.observe(applyFold(get(t, q.float!.name), fold));
    }
    for (const [l, acc] of layerOut) {
      const name = l.node.output(0).name;
      acc.add(get(t, name), get(c, name));
    }
    twinPrimary.push(t[output]!);
    candPrimary.push(c[output]!);
  }
  return { actStats, layerOut, twinPrimary, candPrimary };
}
