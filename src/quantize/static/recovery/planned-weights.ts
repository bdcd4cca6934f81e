/**
 * The integer weights a plan writes, as the recovery methods see them: for every weight the plan
 * quantizes (int8 kernel) or stores (int8 decoded at load), its scales, zero points and type, and
 * the values after rounding to nearest.
 */
import { splitChannels } from '../../../ir/channels.js';
import { quantizeValue } from '../../scheme.js';
import type { QuantPlan } from '../plan.js';

export interface PlannedWeight {
  tensor: string;
  axis: number | null;
  scales: Float32Array;
  zeroPoints: Int32Array;
  type: 'int8' | 'uint8';
}

/** Per weight tensor of the plan (quantized, or stored as int8 by itself: pooled constants are not weights). */
export function plannedWeights(plan: QuantPlan): Map<string, PlannedWeight> {
  const out = new Map<string, PlannedWeight>();
  for (const w of plan.weights) {
    out.set(w.tensor, { tensor: w.tensor, axis: w.axis, scales: Float32Array.from(w.scales), zeroPoints: Int32Array.from(w.zeroPoints), type: w.type });
  }
  for (const c of plan.stored) {
    if (!c.weight || c.pool !== undefined || out.has(c.tensor)) continue;
    out.set(c.tensor, { tensor: c.tensor, axis: c.axis, scales: Float32Array.from(c.scales), zeroPoints: new Int32Array(c.scales.length), type: 'int8' });
  }
  return out;
}

/**
 * The dequantized weight (q - zp) x scale in float32, q rounded to nearest and clamped to the
 * type the same way the applier does: what ONNX Runtime computes with.
 */
export function dequantizedWeight(values: Float32Array, dims: readonly number[], pw: PlannedWeight): Float32Array {
  const { outer, channels, inner } = splitChannels(dims, pw.axis);
  const [lo, hi] = pw.type === 'int8' ? [-128, 127] : [0, 255];
  const out = new Float32Array(values.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = pw.scales[c]!;
      const zp = pw.zeroPoints[c]!;
      const base = (o * channels + c) * inner;
      for (let i = base; i < base + inner; i++) {
        const q = quantizeValue(values[i]!, s, zp, lo, hi);
        out[i] = Math.fround((q - zp) * s);
      }
    }
  }
  return out;
}
