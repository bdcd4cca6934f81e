/**
 * Long per-channel scale vectors stored as float16 and read through Cast(to float), which ONNX
 * Runtime folds when it loads the model (before its QDQ fusions, which still see a constant scale:
 * checked on 1.30). The scales are rounded up to float16 values before anything is quantized with
 * them, so the stored form is exact.
 */
import { decodeFloat16, encodeFloat16 } from '../../ir/float-formats.js';

/** From this many channels, float16 scales save more bytes than their Cast node costs. */
export const MIN_FLOAT16_SCALES = 48;
const FLOAT16_MIN_NORMAL = 2 ** -14;
const FLOAT16_MAX = 65504;

/**
 * Rounds scales up to the next float16 value in place (up, so no weight clips), when all of them
 * are normal float16 numbers; false (and unchanged) otherwise. The int8 values are then computed
 * from these scales, so storing them as float16 adds no error.
 */
export function toFloat16Up(scales: Float32Array): boolean {
  if (!scales.every((s) => s >= FLOAT16_MIN_NORMAL && s <= FLOAT16_MAX / 2)) return false;
  const bits = encodeFloat16(scales);
  const back = decodeFloat16(bits);
  for (let i = 0; i < scales.length; i++) {
    if (back[i]! < scales[i]!) bits[i]! += 1; // positive half: the next bit pattern is the next value up
  }
  scales.set(decodeFloat16(bits));
  return true;
}
