/**
 * GPTQ's U (the upper Cholesky factor of the damped inverse Hessian, H^-1 = U^T U) for layers
 * thousands of inputs wide, with the O(n^3) work in ONNX Runtime's GEMM (runtime/dense-products.ts).
 *
 * As in linalg.ts, U = J L^-1 J where J H J = L L^T (J reverses the order), so only X = L^-1 is
 * needed, and L itself never is. It is built by halves: for
 *   A = [[A11, A21^T], [A21, A22]]:  X11 = (L11)^-1 from A11,  L21 = A21 X11^T,
 *   X22 from the Schur complement A22 - L21 L21^T,  X21 = -X22 L21 X11,
 * recursing until a block is small enough for the JS kernels of linalg.ts. Every product is a
 * dense GEMM (the zeros of the triangular blocks are multiplied too: about 2n^3/3 multiply-adds
 * instead of n^3/3, at 10-40x the speed), and only O(n^2 log n) values are copied. The blocks
 * live in work arrays kept by the DenseProducts, one set per level of the recursion.
 */
import { choleskyLowerInto, dampedCopies, invertLowerTransposedInto, NOT_POSITIVE_DEFINITE } from './linalg.js';
import { copyBlock, type DenseProducts } from './runtime/dense-products.js';

/** Prefix of the names of the work arrays the factor takes from the DenseProducts. */
export const FACTOR_WORK = 'factor';

/** Blocks up to this size are factored in JS (a 128 x 128 factor and inverse take ~1 ms). */
const LEAF = 128;

/**
 * Writes X = L^-1 of the symmetric positive-definite block A (n x n at row/column `a0` of `a`,
 * row stride `lda`; lower triangle read) into the lower triangle of the block of `x` at `x0` (row
 * stride `ldx`). False when A is not positive definite.
 */
async function inverseCholesky(a: Float64Array, lda: number, a0: number, n: number, x: Float64Array, ldx: number, x0: number, dp: DenseProducts, leaf: number, depth: number): Promise<boolean> {
  const w = (role: string, length: number) => dp.work(`${FACTOR_WORK}${depth}.${role}`, length);
  if (n <= leaf) {
    const blk = copyBlock(a, lda, a0, a0, n, n, w('a', n * n));
    const l = w('l', n * n);
    if (!choleskyLowerInto(blk, l, n)) return false;
    const xt = blk; // the block is no longer needed
    invertLowerTransposedInto(l, xt, n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) x[(x0 + i) * ldx + x0 + j] = xt[j * n + i]!;
    return true;
  }
  // A split at a multiple of the leaf size keeps the leaves full.
  const h = Math.ceil(n / 2 / leaf) * leaf;
  const m = n - h;
  if (!(await inverseCholesky(a, lda, a0, h, x, ldx, x0, dp, leaf, depth + 1))) return false;
  const x11 = { rows: h, cols: h, data: copyBlock(x, ldx, x0, x0, h, h, w('x11', h * h)) };
  // Dense X11 with zeros above the diagonal: when x and a share a buffer (in place), A11's upper
  // triangle is still there.
  for (let i = 0; i < h; i++) x11.data.fill(0, i * h + i + 1, (i + 1) * h);
  const a21 = { rows: m, cols: h, data: copyBlock(a, lda, a0 + h, a0, m, h, w('a21', m * h)) };
  const a22 = { rows: m, cols: m, data: copyBlock(a, lda, a0 + h, a0 + h, m, m, w('a22', m * m)) };
  const l21 = { rows: m, cols: h, data: w('l21', m * h) };
  const s = { rows: m, cols: m, data: w('s', m * m) };
  await dp.schur(a21, x11, a22, l21, s);
  if (!(await inverseCholesky(s.data, m, 0, m, x, ldx, x0 + h, dp, leaf, depth + 1))) return false;
  // a22 and a21 are spent: they hold X22 (dense, zeros above the diagonal) and then X21.
  const x22 = { rows: m, cols: m, data: a22.data.fill(0) };
  for (let i = 0; i < m; i++) x22.data.set(x.subarray((x0 + h + i) * ldx + x0 + h, (x0 + h + i) * ldx + x0 + h + i + 1), i * m);
  const x21 = { rows: m, cols: h, data: a21.data };
  await dp.offDiagonal(x22, l21, x11, x21);
  for (let i = 0; i < m; i++) x.set(x21.data.subarray(i * h, (i + 1) * h), (x0 + h + i) * ldx + x0);
  return true;
}

/**
 * Upper Cholesky factor U of h^-1 (h^-1 = U^T U) into `u` (n x n, overwritten), or false when h is
 * not positive definite. `leaf`: the largest block factored in JS (tests make it small to run the
 * recursion on small matrices).
 */
export async function upperCholeskyOfInverseInto(h: Float64Array, n: number, u: Float64Array, dp: DenseProducts, leaf = LEAF): Promise<boolean> {
  const last = n * n - 1;
  // h === u: in place (h is a scratch copy the caller gives up): reversed where it is, and the
  // factor written over it, one n x n array in all (254 MB at n = 5632). Every block of A is read
  // before X is written over it, and only the lower triangles are.
  const inPlace = h === u;
  const rev = inPlace ? h.reverse() : dp.work(`${FACTOR_WORK}.reversed`, n * n);
  if (!inPlace) {
    for (let i = 0; i <= last; i++) rev[i] = h[last - i]!;
    u.fill(0);
  }
  if (!(await inverseCholesky(rev, n, 0, n, u, n, 0, dp, leaf, 0))) return false;
  if (inPlace) for (let i = 0; i < n; i++) u.fill(0, i * n + i + 1, (i + 1) * n);
  // U[p][q] = X[n-1-p][n-1-q]: the reversal of every element, in place.
  u.reverse();
  return true;
}

/**
 * linalg.ts's dampedInverseFactor with the products in ONNX Runtime, into `u` (K x K); `h` is not
 * modified. `deadToOne`: zero diagonal entries count as 1 (clearDeadInputs without its copy of h).
 */
export async function dampedInverseFactorInto(h: Float64Array, K: number, dampPercent: number, u: Float64Array, dp: DenseProducts, leaf = LEAF, deadToOne = false): Promise<void> {
  // Each damped copy is made in u and factored in place (the next one is made from h again).
  for (const hd of dampedCopies(h, K, dampPercent, u, deadToOne)) if (await upperCholeskyOfInverseInto(hd, K, u, dp, leaf)) return;
  throw new Error(NOT_POSITIVE_DEFINITE);
}
