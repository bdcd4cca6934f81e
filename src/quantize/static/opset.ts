/**
 * Which QuantizeLinear/DequantizeLinear a model can carry. ONNX Q/DQ exist from opset 10, take a
 * per-axis scale from opset 13 and 16-bit types from opset 21. Older models (PaddleOCR exports at
 * opset 9 and 11, many detectors) get ONNX Runtime's com.microsoft Q/DQ instead, which accept all of
 * that at any opset and which ORT fuses exactly like the ONNX ones. This keeps every other op of
 * the model at the version it was exported with: no opset conversion, no change of meaning.
 */
import type { Model } from '../../ir/model.js';
import type { ResolvedStaticOptions } from './options.js';

export const MS_DOMAIN = 'com.microsoft';

/** The lowest default-domain opset whose Q/DQ can express what the options ask for. */
export function requiredQdqOpset(options: Pick<ResolvedStaticOptions, 'activations' | 'perChannel'>): number {
  if (options.activations === 'uint16' || options.activations === 'int16') return 21;
  return options.perChannel ? 13 : 10;
}

export function qdqDomainFor(model: Model, options: Pick<ResolvedStaticOptions, 'activations' | 'perChannel'>): '' | typeof MS_DOMAIN {
  const opset = model.opset('') ?? 1;
  return opset >= requiredQdqOpset(options) ? '' : MS_DOMAIN;
}

/** Makes sure the model imports the domain of the ops the applier wrote. */
export function ensureOpsetImport(model: Model, domain: string): void {
  if (domain && !model.opsetImports.has(domain)) model.opsetImports.set(domain, 1);
}
