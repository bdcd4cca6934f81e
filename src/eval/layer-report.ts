/** Per-layer results as plain data, and the rankings built on them. */
import { OptionError } from '../errors.js';
import type { QdqStructure, QuantLayer, Quantizer } from './qdq-structure.js';
import { representableRange } from './qdq-structure.js';
import type { NoiseAccumulator, WeightError } from './layer-stats.js';
import type { ActivationStats } from './layer-pass.js';
import type { FoldedActivation } from './float-counterparts.js';

/** The model output of a variant compared with the float twin's. */
export interface VariantScore {
  sqnrDb: number;
  agreement: number | null;
  cosine: number;
}

export interface QuantizerReport {
  /** The float tensor (activations) or the integer constant (weights, biases). */
  tensor: string;
  kind: Quantizer['kind'];
  type: string;
  perChannel: boolean;
  /** The float range the integer grid covers (widest over channels). */
  representable: { min: number; max: number };
  /** The quantization step (largest over channels). */
  scale: number;
  /** The float values seen: FP32 activations over the samples, or the weights. */
  observed: { min: number; max: number };
  /** Activations: share of values clipped by the range (0 for weights and biases). */
  clippedFraction: number;
  /** Signal-to-noise ratio of this quantizer on its own input, in dB. */
  sqnrDb: number;
  /** False for weights without a float original (noise estimated from the scale) and for biases. */
  exact: boolean;
  /** A Relu/Clip the quantizer's range stands in for (removed from the graph by the quantizer). */
  folded?: 'Relu' | 'Clip';
}

export interface LayerReport {
  /** Node name (or op#position when the node has none). */
  node: string;
  op: string;
  position: number;
  output: string;
  quantizers: QuantizerReport[];
  /** The worst quantizer SQNR of the layer, in dB. */
  quantSqnrDb: number;
  /** The layer's output against the float twin: error accumulated up to here, in dB. */
  outputSqnrDb: number;
  /** The model output with only this layer quantized. */
  only?: VariantScore;
  /** The model output with every layer but this one quantized; `recoveryDb` is the gain over the full model. */
  allBut?: VariantScore & { recoveryDb: number };
}

export type RankBy = 'sensitivity' | 'recovery' | 'quantization';

export interface CollectedStats {
  actStats: Map<Quantizer, ActivationStats>;
  layerOut: Map<QuantLayer, NoiseAccumulator>;
  weights: Map<Quantizer, WeightError>;
  only: Map<QuantLayer, VariantScore>;
  allBut: Map<QuantLayer, VariantScore>;
  model: VariantScore;
  folds: Map<Quantizer, FoldedActivation>;
}

function quantizerReport(q: Quantizer, st: CollectedStats): QuantizerReport {
  const base = { kind: q.kind, type: q.params.type, perChannel: q.params.scale.length > 1, representable: representableRange(q.params), scale: Math.max(...q.params.scale) };
  if (q.kind === 'activation') {
    const a = st.actStats.get(q)!;
    const fold = st.folds.get(q);
    return { ...base, tensor: q.float!.name, observed: { min: a.fp32.min, max: a.fp32.max }, clippedFraction: a.clip.fraction, sqnrDb: a.noise.sqnrDb, exact: true, ...(fold ? { folded: fold.op } : {}) };
  }
  const w = st.weights.get(q);
  const name = q.dequantize.input(0)!.name;
  if (!w) return { ...base, tensor: name, observed: base.representable, clippedFraction: 0, sqnrDb: Infinity, exact: false };
  return { ...base, tensor: name, observed: { min: w.min, max: w.max }, clippedFraction: 0, sqnrDb: w.sqnrDb, exact: w.exact };
}

export function layerReports(structure: QdqStructure, st: CollectedStats): LayerReport[] {
  return structure.layers.map((l) => {
    const quantizers = l.inputs.map((i) => quantizerReport(i.quantizer, st));
    const report: LayerReport = {
      node: l.node.name || `${l.node.opType}#${l.position}`,
      op: l.node.opType,
      position: l.position,
      output: l.node.output(0).name,
      quantizers,
      quantSqnrDb: Math.min(...quantizers.filter((q) => q.kind !== 'bias').map((q) => q.sqnrDb), Infinity),
      outputSqnrDb: st.layerOut.get(l)!.sqnrDb,
    };
    const only = st.only.get(l);
    if (only) report.only = only;
    const allBut = st.allBut.get(l);
    if (allBut) report.allBut = { ...allBut, recoveryDb: allBut.sqnrDb - st.model.sqnrDb };
    return report;
  });
}

/**
 * Sorts layers, the one to blame first; ties keep graph order. Layers without the runs the ranking
 * needs (sensitivity limited to some layers) come after the others, by quantizer SQNR.
 */
export function rankLayers(layers: LayerReport[], by: RankBy): LayerReport[] {
  if (by === 'sensitivity' && !layers.some((l) => l.only)) throw new OptionError("ranking by 'sensitivity' needs the 'only' sensitivity runs (sensitivity: 'only' or 'both')");
  if (by === 'recovery' && !layers.some((l) => l.allBut)) throw new OptionError("ranking by 'recovery' needs the 'all-but' sensitivity runs (sensitivity: 'all-but' or 'both')");
  const key = (l: LayerReport): [number, number] => {
    // lowest output SQNR with only this layer quantized = most harmful; largest recovery first
    if (by === 'sensitivity') return l.only ? [0, l.only.sqnrDb] : [1, l.quantSqnrDb];
    if (by === 'recovery') return l.allBut ? [0, -l.allBut.recoveryDb] : [1, l.quantSqnrDb];
    return [0, l.quantSqnrDb];
  };
  const cmp = (x: number, y: number) => (x === y ? 0 : x < y ? -1 : 1); // Infinity-safe
  return [...layers].sort((a, b) => {
    const [ga, va] = key(a);
    const [gb, vb] = key(b);
    return ga - gb || cmp(va, vb) || a.position - b.position;
  });
}
