/** NaN/Inf detection on runtime tensors. */
import type { TensorData } from '../../runtime/types.js';

/** Index of the first NaN/Inf value, or -1. float16 is checked on its bits. */
export function firstNonFinite(t: TensorData): number {
  const d = t.data;
  if (d instanceof Float32Array || d instanceof Float64Array) {
    for (let i = 0; i < d.length; i++) if (d[i]! - d[i]! !== 0) return i;
  } else if (t.type === 'float16' && d instanceof Uint16Array) {
    for (let i = 0; i < d.length; i++) if ((d[i]! & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}
