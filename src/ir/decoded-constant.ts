/**
 * A constant that is stored narrower than it is read: `Cast(to float)` of a float16 constant, the
 * form slimnet writes for long per-channel scale vectors (ONNX Runtime folds the Cast when it loads
 * the model). Readers that need the values of Q/DQ scales use this instead of `Value.constant`.
 */
import { DataType } from './data-type.js';
import { Tensor } from './tensor.js';
import type { Value } from './value.js';

export function decodedConstant(v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.constant) return v.constant;
  const p = v.producer;
  if (!p || p.opType !== 'Cast' || p.domain !== '' || p.getInt('to', 0) !== DataType.FLOAT) return undefined;
  const src = p.input(0)?.constant;
  if (!src || src.dataType !== DataType.FLOAT16) return undefined;
  return Tensor.float([...src.dims], src.toFloat32());
}
