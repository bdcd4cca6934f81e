/**
 * Multiply-accumulates per sample of the layers with weights (Conv, ConvTranspose, Gemm, MatMul
 * with a constant weight), from their weights and the static output sizes: what a channel cut
 * saves, before any measurement. Undefined when an output size is not known statically.
 */
import type { Model } from '../../ir/model.js';
import type { ShapeMap } from './shapes.js';
import { constOf } from './tensors.js';

export function countMacs(model: Model, shapes: ShapeMap): number | undefined {
  let total = 0;
  for (const n of model.graph.nodes) {
    if (n.domain !== '' || !['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(n.opType)) continue;
    const w = constOf(n.input(1))?.tensor;
    if (!w || constOf(n.input(0))) continue;
    if (n.opType === 'Gemm') { total += w.size; continue; }
    const ref = n.opType === 'ConvTranspose' ? n.input(0) : n.outputs[0];
    const shape = shapes.of(ref);
    if (!shape) return undefined;
    // Positions each weight value is used at: the spatial size (of the input, for ConvTranspose) or the rows of A.
    const spatial = n.opType === 'MatMul' ? shape.slice(1, -1) : shape.slice(2);
    if (!spatial.every((d) => typeof d === 'number')) return undefined;
    total += w.size * (spatial as number[]).reduce((a, b) => a * b, 1);
  }
  return total;
}
