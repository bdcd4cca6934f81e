/**
 * Float64 matrix products run by ONNX Runtime (MLAS's GEMM on x86-64 and ARM64), for the O(n^3)
 * parts of GPTQ: the inverse factor of the Hessian and the lazy-batch updates, tens of GFLOP/s on
 * one thread where a loop in JS does one or two (see linalg.ts). Everything stays in float64, so
 * results differ from the JS loops only by the order of the sums.
 *
 * Unlike Engine sessions, these run in this thread: the operands are views of the caller's arrays
 * (onnxruntime-node reads them in place) and each result is written into an array the caller
 * owns. Going through the Engine's worker copied every operand and allocated every result, and
 * touching fresh memory costs ~3 ms per MB on a VM (measured here: 0.33 GB/s against 30 GB/s for a
 * copy into memory already touched), more than the products themselves. A product blocks the event
 * loop for at most a fraction of a second; GPTQ's JS loops blocked it for minutes per layer before.
 *
 * One small graph per kind of product, with symbolic dimensions: each session is built once and
 * serves every shape.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/data-type.js';
import { floatAttr } from '../ir/attribute.js';
import { encodeModel } from '../onnx/encode.js';

/** A row-major matrix: `data` holds exactly rows * cols values (a view is fine). */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

type Kind = 'schur' | 'offDiagonal' | 'subtract' | 'product';

const minusOne = () => floatAttr('alpha', -1);
const one = () => floatAttr('beta', 1);

function kernel(kind: Kind): Uint8Array {
  const b = new GraphBuilder({ opset: 13, graphName: `dense_${kind}` });
  const d = DataType.DOUBLE;
  switch (kind) {
    case 'schur': {
      // l21 = a21 x11^T (the off-diagonal block of the Cholesky factor, x11 = L11^-1) and
      // s = a22 - l21 l21^T (the Schur complement that remains to be factored).
      const a21 = b.input('a21', d, ['m', 'h']);
      const x11 = b.input('x11', d, ['h', 'h']);
      const a22 = b.input('a22', d, ['m', 'm']);
      const l21 = b.op('Gemm', [a21, x11], { transB: 1 }, { outputNames: ['l21'] });
      b.output(l21);
      b.output(b.op('Gemm', [l21, l21, a22], { transB: 1, alpha: minusOne(), beta: one() }, { outputNames: ['s'] }));
      break;
    }
    case 'offDiagonal': {
      // The off-diagonal block of the inverse of [[L11, 0], [L21, L22]]: -L22^-1 L21 L11^-1.
      const x22 = b.input('x22', d, ['m', 'm']);
      const l21 = b.input('l21', d, ['m', 'h']);
      const x11 = b.input('x11', d, ['h', 'h']);
      const t = b.op('MatMul', [l21, x11]);
      b.output(b.op('Gemm', [x22, t], { alpha: minusOne() }, { outputNames: ['x21'] }));
      break;
    }
    case 'subtract': {
      // y = c - a^T e: GPTQ's lazy update of later rows by a batch's scaled errors.
      const a = b.input('a', d, ['k', 'm']);
      const e = b.input('e', d, ['k', 'n']);
      const c = b.input('c', d, ['m', 'n']);
      b.output(b.op('Gemm', [a, e, c], { transA: 1, alpha: minusOne(), beta: one() }, { outputNames: ['y'] }));
      break;
    }
    case 'product': {
      // y = a^T e: AWQ's H dW for its output-error objective.
      const a = b.input('a', d, ['k', 'm']);
      const e = b.input('e', d, ['k', 'n']);
      b.output(b.op('Gemm', [a, e], { transA: 1 }, { outputNames: ['y'] }));
      break;
    }
  }
  return encodeModel(b.build());
}

const tensor = (m: Mat) => {
  if (m.data.length !== m.rows * m.cols) throw new RangeError(`a ${m.rows}x${m.cols} matrix needs ${m.rows * m.cols} values, got ${m.data.length}`);
  return new ort.Tensor('float64', m.data, [m.rows, m.cols]);
};

export class DenseProducts {
  private readonly sessions = new Map<Kind, Promise<ort.InferenceSession>>();
  private readonly scratch = new Map<string, Float64Array>();

  private session(kind: Kind): Promise<ort.InferenceSession> {
    let s = this.sessions.get(kind);
    if (!s) {
      // One thread, as every slimnet measurement and the rest of quantization use.
      s = ort.InferenceSession.create(kernel(kind), { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'], enableCpuMemArena: false });
      this.sessions.set(kind, s);
    }
    return s;
  }

  private async run(kind: Kind, feeds: Record<string, Mat>, outputs: Record<string, Mat>): Promise<void> {
    const s = await this.session(kind);
    const f: Record<string, ort.Tensor> = {};
    for (const [k, m] of Object.entries(feeds)) f[k] = tensor(m);
    const o: Record<string, ort.Tensor> = {};
    for (const [k, m] of Object.entries(outputs)) o[k] = tensor(m);
    await s.run(f, o);
  }

  /**
   * A work array of at least `length` values under `name`, kept for the next call: the same
   * products run for every layer, and memory already touched is reused instead of faulted in again.
   * Its contents are whatever the last user left.
   */
  work(name: string, length: number): Float64Array {
    let a = this.scratch.get(name);
    if (!a || a.length < length) {
      a = new Float64Array(length);
      this.scratch.set(name, a);
    }
    return a.subarray(0, length);
  }

  /** l21 = a21 x11^T and s = a22 - l21 l21^T (a21 m x h, x11 h x h, a22 m x m), into the given arrays. */
  schur(a21: Mat, x11: Mat, a22: Mat, l21: Mat, s: Mat): Promise<void> {
    return this.run('schur', { a21, x11, a22 }, { l21, s });
  }

  /** x21 = -x22 l21 x11 (x22 m x m, l21 m x h, x11 h x h). */
  offDiagonal(x22: Mat, l21: Mat, x11: Mat, x21: Mat): Promise<void> {
    return this.run('offDiagonal', { x22, l21, x11 }, { x21 });
  }

  /** y = c - a^T e (a k x m, e k x n, c and y m x n; y must not overlap c). */
  subtract(a: Mat, e: Mat, c: Mat, y: Mat): Promise<void> {
    return this.run('subtract', { a, e, c }, { y });
  }

  /** y = a^T e (a k x m, e k x n, y m x n). */
  product(a: Mat, e: Mat, y: Mat): Promise<void> {
    return this.run('product', { a, e }, { y });
  }

  /**
   * Drops the work arrays, or those whose name starts with `prefix` (the next calls allocate them
   * again; collect garbage before they do).
   */
  forgetWork(prefix = ''): void {
    for (const name of [...this.scratch.keys()]) if (name.startsWith(prefix)) this.scratch.delete(name);
  }

  /** Releases the sessions and the work arrays. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.scratch.clear();
    for (const s of all) await (await s).release();
  }
}

/** Rows [r0, r0 + rows) and columns [c0, c0 + cols) of the row-major `a` with row stride `ld`, into `out` (contiguous). */
export function copyBlock(a: Float64Array, ld: number, r0: number, c0: number, rows: number, cols: number, out: Float64Array): Float64Array {
  for (let r = 0; r < rows; r++) out.set(a.subarray((r0 + r) * ld + c0, (r0 + r) * ld + c0 + cols), r * cols);
  return out;
}
