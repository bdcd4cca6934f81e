/**
 * Dense symmetric positive-definite linear algebra for GPTQ, SparseGPT and least-squares reconstruction,
 * on Float64Array, row-major n x n. Layers here reach n = 4608 (a 3x3 convolution over 512
 * channels), where the O(n^3) factorizations dominate the run time, so every loop that matters is a
 * 4x4 register-blocked dot-product kernel over contiguous rows: about 4x the speed of the
 * row-update (axpy) form in V8, which cannot vectorize either (measured: 2.2 vs 0.55 GFLOP/s).
 *
 * GPTQ and SparseGPT need U, the upper Cholesky factor of the inverse Hessian (H^-1 = U^T U). With J the
 * reversal permutation, J H J = L L^T gives U = J L^-1 J: one factorization and one triangular
 * inverse. The inverse is built transposed (MT = L^-T), which makes its dot products contiguous.
 */

const acc = new Float64Array(16);

/**
 * acc[4a + b] = sum over k in [k0, k1) of A[(ra + a) * n + k] * B[(rb + b) * n + k], for a, b < 4.
 * The 16 partial sums stay in registers; 8 loads feed 16 multiply-adds.
 */
function dot4x4(A: Float64Array, ra: number, B: Float64Array, rb: number, n: number, k0: number, k1: number): void {
  const a0 = ra * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
  const b0 = rb * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = k0; k < k1; k++) {
    const x0 = A[a0 + k]!, x1 = A[a1 + k]!, x2 = A[a2 + k]!, x3 = A[a3 + k]!;
    const y0 = B[b0 + k]!, y1 = B[b1 + k]!, y2 = B[b2 + k]!, y3 = B[b3 + k]!;
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
  }
  acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c03;
  acc[4] = c10; acc[5] = c11; acc[6] = c12; acc[7] = c13;
  acc[8] = c20; acc[9] = c21; acc[10] = c22; acc[11] = c23;
  acc[12] = c30; acc[13] = c31; acc[14] = c32; acc[15] = c33;
}

/** sum over k in [k0, k1) of A[ra * n + k] * B[rb * n + k]. */
function dot(A: Float64Array, ra: number, B: Float64Array, rb: number, n: number, k0: number, k1: number): number {
  const a = ra * n;
  const b = rb * n;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = k0;
  for (; k + 3 < k1; k += 4) {
    s0 += A[a + k]! * B[b + k]!;
    s1 += A[a + k + 1]! * B[b + k + 1]!;
    s2 += A[a + k + 2]! * B[b + k + 2]!;
    s3 += A[a + k + 3]! * B[b + k + 3]!;
  }
  for (; k < k1; k++) s0 += A[a + k]! * B[b + k]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Lower Cholesky factor of `a` (read only) into `l` (n x n, zeros above the diagonal); false when
 * `a` is not positive definite. L[i][j] = (A[i][j] - L[i,:j] . L[j,:j]) / L[j][j], four rows of i
 * against four rows of j at a time.
 */
export function choleskyLowerInto(a: Float64Array, l: Float64Array, n: number): boolean {
  l.fill(0);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const ib = Math.min(4, n - i0);
    for (let j0 = 0; j0 < i0; j0 += 4) {
      // A full 4x4 block strictly below the diagonal: the bulk of the dots in one kernel call.
      if (ib === 4) dot4x4(l, i0, l, j0, n, 0, j0);
      for (let b = 0; b < 4; b++) {
        const j = j0 + b;
        const ljj = l[j * n + j]!;
        for (let x = 0; x < ib; x++) {
          const i = i0 + x;
          const bulk = ib === 4 ? acc[4 * x + b]! : dot(l, i, l, j, n, 0, j0);
          const s = a[i * n + j]! - bulk - dot(l, i, l, j, n, j0, j);
          l[i * n + j] = s / ljj;
        }
      }
    }
    // The diagonal block.
    for (let x = 0; x < ib; x++) {
      const i = i0 + x;
      for (let j = i0; j <= i; j++) {
        const s = a[i * n + j]! - dot(l, i, l, j, n, 0, j);
        if (j === i) {
          if (!(s > 0)) return false;
          l[i * n + i] = Math.sqrt(s);
        } else {
          l[i * n + j] = s / l[j * n + j]!;
        }
      }
    }
  }
  return true;
}

/**
 * MT = (L^-1)^T (upper triangular) into `mt`. Column j of L^-1 is row j of MT:
 * MT[j][i] = -(L[i, j:i] . MT[j, j:i]) / L[i][i], MT[i][i] = 1 / L[i][i].
 */
export function invertLowerTransposedInto(l: Float64Array, mt: Float64Array, n: number): void {
  mt.fill(0);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const ib = Math.min(4, n - i0);
    for (let j0 = 0; j0 < i0; j0 += 4) {
      // MT[j][k] is zero for k < j, so the bulk can run over [j0, i0) for all four j.
      if (ib === 4) dot4x4(l, i0, mt, j0, n, j0, i0);
      for (let x = 0; x < ib; x++) {
        const i = i0 + x;
        const lii = l[i * n + i]!;
        for (let b = 0; b < 4; b++) {
          const j = j0 + b;
          const bulk = ib === 4 ? acc[4 * x + b]! : dot(l, i, mt, j, n, j0, i0);
          mt[j * n + i] = -(bulk + dot(l, i, mt, j, n, i0, i)) / lii;
        }
      }
    }
    for (let x = 0; x < ib; x++) {
      const i = i0 + x;
      const lii = l[i * n + i]!;
      mt[i * n + i] = 1 / lii;
      for (let j = i0; j < i; j++) mt[j * n + i] = -dot(l, i, mt, j, n, j, i) / lii;
    }
  }
}

/** Upper Cholesky factor U of h^-1 (h^-1 = U^T U), or undefined when h is not positive definite. */
export function upperCholeskyOfInverse(h: Float64Array, n: number): Float64Array | undefined {
  const last = n * n - 1;
  const rev = new Float64Array(n * n);
  for (let i = 0; i <= last; i++) rev[i] = h[last - i]!;
  const l = new Float64Array(n * n);
  if (!choleskyLowerInto(rev, l, n)) return undefined;
  const mt = rev; // the reversed copy is no longer needed
  invertLowerTransposedInto(l, mt, n);
  // U[p][q] = (L^-1)[n-1-p][n-1-q] = MT[n-1-q][n-1-p], written over L.
  const u = l;
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) u[p * n + q] = mt[(n - 1 - q) * n + (n - 1 - p)]!;
  return u;
}

/**
 * Inputs that were always zero (H[k][k] = 0) carry no information: their rows of `w` ([K, N]) are
 * zeroed and H gets a unit diagonal there, so the damped factorization below exists. In place.
 */
export function clearDeadInputs(h: Float64Array, w: Float64Array, K: number, N: number): void {
  for (let k = 0; k < K; k++) {
    if (h[k * K + k] === 0) {
      h[k * K + k] = 1;
      w.fill(0, k * N, (k + 1) * N);
    }
  }
}

/**
 * `h` with `dampPercent` of its mean diagonal added to the diagonal, then tenfold more each time
 * the caller asks again (GPTQ's and SparseGPT's damping, until H factors). Written into `into`
 * when given (K x K), else into a new array.
 */
export function* dampedCopies(h: Float64Array, K: number, dampPercent: number, into?: Float64Array, deadToOne = false): Generator<Float64Array> {
  // deadToOne: a zero diagonal entry (an input that never fires) counts as 1, as clearDeadInputs
  // would have set it, without a copy of h to set it in.
  const diag = (k: number) => (deadToOne && h[k * K + k] === 0 ? 1 : h[k * K + k]!);
  let mean = 0;
  for (let k = 0; k < K; k++) mean += diag(k);
  mean = mean / K || 1;
  for (let damp = dampPercent; damp < 10; damp *= 10) {
    const hd = into ? (into.set(h), into) : Float64Array.from(h);
    for (let k = 0; k < K; k++) hd[k * K + k] = diag(k) + damp * mean;
    yield hd;
  }
}

export const NOT_POSITIVE_DEFINITE = 'the Hessian is not positive definite even with heavy damping';

/** Upper Cholesky factor of the damped inverse Hessian (GPTQ's and SparseGPT's U), damped as dampedCopies says. */
export function dampedInverseFactor(h: Float64Array, K: number, dampPercent: number): Float64Array {
  for (const hd of dampedCopies(h, K, dampPercent)) {
    const u = upperCholeskyOfInverse(hd, K);
    if (u) return u;
  }
  throw new Error(NOT_POSITIVE_DEFINITE);
}

/**
 * C[i][j] -= sum over k < kd of A[i][k] * B[j][k], for i < m, j < nc: A is m x kd, B is nc x kd
 * (both row-major, rows contiguous in k), C is m x nc with row stride ldc from offset `c0`.
 * SparseGPT's lazy update of the columns after a block (the O(n^2 N) part).
 */
export function subtractProducts(C: Float64Array, c0: number, ldc: number, A: Float64Array, B: Float64Array, m: number, nc: number, kd: number): void {
  const m4 = m - (m % 4);
  const n4 = nc - (nc % 4);
  for (let i = 0; i < m4; i += 4) {
    for (let j = 0; j < n4; j += 4) {
      dot4x4(A, i, B, j, kd, 0, kd);
      for (let x = 0; x < 4; x++) {
        const row = c0 + (i + x) * ldc + j;
        C[row]! -= acc[4 * x]!;
        C[row + 1]! -= acc[4 * x + 1]!;
        C[row + 2]! -= acc[4 * x + 2]!;
        C[row + 3]! -= acc[4 * x + 3]!;
      }
    }
    for (let j = n4; j < nc; j++) for (let x = 0; x < 4; x++) C[c0 + (i + x) * ldc + j]! -= dot(A, i + x, B, j, kd, 0, kd);
  }
  for (let i = m4; i < m; i++) for (let j = 0; j < nc; j++) C[c0 + i * ldc + j]! -= dot(A, i, B, j, kd, 0, kd);
}

/**
 * Solves h x = b for symmetric positive-definite h (n x n) and `cols` right-hand sides b (n x cols,
 * row-major), in place in b. Damping (a fraction of the mean diagonal) is added to h and raised
 * tenfold until the factorization succeeds. Returns the damping used.
 */
export function solveSpd(h: Float64Array, n: number, b: Float64Array, cols: number, damp: number): number {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += h[i * n + i]!;
  mean = mean / n || 1;
  const l = new Float64Array(n * n);
  let used = damp;
  for (;;) {
    const hd = Float64Array.from(h);
    for (let i = 0; i < n; i++) hd[i * n + i]! += used * mean;
    if (choleskyLowerInto(hd, l, n)) break;
    if (used > 10) throw new Error('the Gram matrix is not positive definite even with heavy damping');
    used = Math.max(used * 10, 1e-6);
  }
  // Forward then backward substitution, all right-hand sides of a row at once.
  for (let i = 0; i < n; i++) {
    const bi = i * cols;
    for (let k = 0; k < i; k++) {
      const f = l[i * n + k]!;
      if (f === 0) continue;
      const bk = k * cols;
      for (let c = 0; c < cols; c++) b[bi + c]! -= f * b[bk + c]!;
    }
    const d = l[i * n + i]!;
    for (let c = 0; c < cols; c++) b[bi + c]! /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = i * cols;
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i]!;
      if (f === 0) continue;
      const bk = k * cols;
      for (let c = 0; c < cols; c++) b[bi + c]! -= f * b[bk + c]!;
    }
    const d = l[i * n + i]!;
    for (let c = 0; c < cols; c++) b[bi + c]! /= d;
  }
  return used;
}
