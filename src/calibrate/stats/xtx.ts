/**
 * X^T X of a tensor seen as rows of its last axis (the Hessian GPTQ and SparseGPT need for the
 * layer that consumes it). Accumulated in float64; only the upper triangle during the run.
 */
import type { StatRequest } from '../types.js';
import type { XtxStat } from './results.js';
import type { BatchValues, Reducer } from './reducer.js';

export class XtxReducer implements Reducer {
  readonly needs = 'full' as const;
  private k = 0;
  private gram = new Float64Array(0);
  private rows = 0;
  private row = new Float64Array(0);

  constructor(readonly request: Extract<StatRequest, { kind: 'xtx' }>) {}

  update(b: BatchValues): void {
    const x = b.values!;
    const dims = b.dims;
    const k = dims.length ? dims[dims.length - 1]! : 1;
    if (this.k === 0) {
      if (k > 16384) throw new RangeError(`xtx of '${this.request.tensor}': the last axis has ${k} entries; a ${k}x${k} float64 matrix would need ${((k * k * 8) / 2 ** 30).toFixed(1)} GiB`);
      this.k = k;
      this.gram = new Float64Array(k * k);
      this.row = new Float64Array(k);
    }
    if (k !== this.k) throw new RangeError(`tensor '${this.request.tensor}' changed its last axis between batches (${this.k} then ${k})`);
    const g = this.gram;
    const row = this.row;
    const rows = k ? x.length / k : 0;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < k; i++) row[i] = x[r * k + i]!;
      for (let i = 0; i < k; i++) {
        const xi = row[i]!;
        if (xi === 0) continue; // post-ReLU rows are sparse
        const base = i * k;
        for (let j = i; j < k; j++) g[base + j]! += xi * row[j]!;
      }
    }
    this.rows += rows;
  }

  result(): XtxStat {
    const k = this.k;
    const g = this.gram.slice();
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i]!;
    return { kind: 'xtx', tensor: this.request.tensor, size: k, gram: g, rows: this.rows };
  }
}
