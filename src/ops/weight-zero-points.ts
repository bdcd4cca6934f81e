/**
 * Where integer ops read the zero point of a constant weight. ONNX Runtime rewrites these per node
 * when it loads a model: with `session.x64quantprecision=1` (its own remedy for x86 without VNNI)
 * it turns int8 weights and their zero points into uint8 ones, and fails with "Attempt to replace
 * the existing tensor" when two weights share one zero-point initializer. So quantized models keep
 * one zero point per weight even where they are identical.
 */
import type { Value } from '../ir/value.js';

/** op type -> input index of a weight's zero point (DequantizeLinear: only when it reads a constant). */
const SLOTS: Readonly<Record<string, readonly number[]>> = {
  DequantizeLinear: [2],
  MatMulInteger: [3],
  ConvInteger: [3],
  QLinearConv: [5],
  QLinearMatMul: [5],
  QGemm: [5],
  MatMulIntegerToFloat: [5],
  DynamicQuantizeMatMul: [3],
  QAttention: [7],
  DynamicQuantizeLSTM: [9, 11],
};

/** Whether an initializer is read as the zero point of a constant weight somewhere. */
export function isWeightZeroPoint(v: Value): boolean {
  for (const u of v.uses) {
    if (!SLOTS[u.node.opType]?.includes(u.index)) continue;
    if (u.node.opType !== 'DequantizeLinear' || u.node.input(0)?.constant) return true;
  }
  return false;
}
