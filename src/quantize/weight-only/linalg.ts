/**
 * Dense symmetric positive-definite linear algebra for GPTQ, in Float64Array, row-major n x n.
 * GPTQ needs U, the upper Cholesky factor of the inverse Hessian (H^-1 = U^T U). With J the
 * reversal permutation, Cholesky of J H J = L L^T gives H = (J L J)(J L J)^T with J L J upper
 * triangular, so U = (J L J)^-1 = J L^-1 J: one factorization and one triangular inverse, half the
 * work of inverting H and factoring the inverse. All loops run over contiguous rows.
 */

/** Lower Cholesky factor of `a` (not modified); undefined when `a` is not positive definite. */
export function choleskyLower(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      // Four partial sums break the add dependency chain (~25% faster in V8).
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += l[li + k]! * l[lj + k]!;
        s1 += l[li + k + 1]! * l[lj + k + 1]!;
        s2 += l[li + k + 2]! * l[lj + k + 2]!;
        s3 += l[li + k + 3]! * l[lj + k + 3]!;
      }
      for (; k < j; k++) s0 += l[li + k]! * l[lj + k]!;
      const sum = a[li + j]! - (s0 + s1 + s2 + s3);
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[li + i] = Math.sqrt(sum);
      } else {
        l[li + j] = sum / l[lj + j]!;
      }
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix (also lower triangular), built row by row with row updates. */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    inv[ri + i] = 1;
    // Row i of L^-1 = (e_i - sum_k L[i][k] * row k of L^-1) / L[i][i]; row k is zero beyond column k.
    for (let k = 0; k < i; k++) {
      const c = l[ri + k]!;
      if (c === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) inv[ri + j]! -= c * inv[rk + j]!;
    }
    const d = l[ri + i]!;
    for (let j = 0; j <= i; j++) inv[ri + j]! /= d;
  }
  return inv;
}

/** Reverses the order of rows and columns (J A J). */
function reversed(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  const last = n * n - 1;
  for (let i = 0; i <= last; i++) out[i] = a[last - i]!;
  return out;
}

/** Upper Cholesky factor U of h^-1 (h^-1 = U^T U), or undefined when h is not positive definite. */
export function upperCholeskyOfInverse(h: Float64Array, n: number): Float64Array | undefined {
  const l = choleskyLower(reversed(h, n), n);
  return l ? reversed(invertLower(l, n), n) : undefined;
}
