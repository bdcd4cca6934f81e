/**
 * "q4f16" (as transformers.js ships decoders): 4/8-bit weights with float16 activations. The
 * weight-only model goes through FP16 conversion (src/quantize/fp16), which converts MatMulNBits
 * and GatherBlockQuantized too (their T1 inputs and outputs, block scales and bias become float16:
 * ONNX Runtime 1.30's CPU kernels run them in float16) and keeps its usual float32 islands (shape
 * arithmetic, Range, constants beyond the float16 range) and float32 model inputs and outputs.
 */
import type { Model } from '../../ir/model.js';
import type { Engine } from '../../runtime/engine.js';
import { storedTensorBytes } from '../../onnx/tensors.js';
import { convertToFp16Unchecked } from '../fp16/convert.js';
import type { QuantizeSummary } from '../types.js';

const NOTHING_TO_CONVERT = /^no floating-point tensors/;

/** Converts the weight-only model; adds what the conversion did to the weight-only summary. */
export async function toFloat16Activations(model: Model, summary: QuantizeSummary, engine: Engine | undefined, signal: AbortSignal | undefined): Promise<Model> {
  // No ORT optimizer pass: the weight-only graph is already what ORT will fuse at load time. No load
  // check either: weight-only checks the model it writes, float16 or not.
  const r = await convertToFp16Unchecked(model, { preprocess: false, ...(engine ? { engine } : {}), ...(signal ? { signal } : {}) });
  const weightOps = r.summary.quantized.filter((d) => d.op === 'com.microsoft.MatMulNBits' || d.op === 'com.microsoft.GatherBlockQuantized').length;
  const casts = r.summary.quantized.filter((d) => d.op === 'Cast' && /boundary/.test(d.detail)).length;
  const kept = new Map<string, number>();
  for (const d of r.summary.skipped) if (!NOTHING_TO_CONVERT.test(d.detail)) kept.set(d.detail, (kept.get(d.detail) ?? 0) + 1);
  const keptText = [...kept].map(([why, n]) => `${n} x ${why}`).join('; ');
  summary.notes = [
    ...(summary.notes ?? []),
    `float16 activations (q4f16): ${r.summary.quantized.length - casts} nodes compute in float16, ${weightOps} of them MatMulNBits/GatherBlockQuantized with float16 scales; ${casts} Casts keep the model inputs and outputs float32${keptText ? `; kept in float32: ${keptText}` : ''}`,
  ];
  summary.warnings.push('float16 activations: only constants were checked against the float16 range (65504); to check the activations on data, write the float32-activation model and run slimnet quantize MODEL --mode fp16 --calib DATA on it');
  summary.sizeAfterBytes = storedTensorBytes(r.model);
  return r.model;
}
