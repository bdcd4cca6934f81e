/** The statistics GPTQ needs: X^T X of every quantized MatMul's input (input-statistics.ts). */
import type { LinearOp } from '../linear.js';
import type { InputStatistics } from './input-statistics.js';

/** X^T X per input value name, from collected statistics; inputs not observed are absent. */
export function hessiansOf(collected: InputStatistics | undefined, ops: readonly LinearOp[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (!collected) return out;
  for (const op of ops) {
    const g = collected.gram(op);
    if (g) out.set(op.input.name, g);
  }
  return out;
}
