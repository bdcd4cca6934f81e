/**
 * GPTQ's time for one layer at language-model widths (2048, 4096 and 5632; the cost grows as K^3 for
 * the Cholesky factor and K^2 N for the compensation), single-threaded, wall and CPU seconds.
 */
import { quantizeGptq } from '../../src/quantize/weight-only/gptq.js';
import { mulberry32 } from '../../src/random.js';
import { DenseProducts } from '../../src/runtime/dense-products.js';
import type { BenchReport, BenchSuite } from '../types.js';

async function gptqSeconds(K: number, N: number, dp: DenseProducts): Promise<{ wall: number; cpu: number }> {
  const next = mulberry32(K);
  const w = Float32Array.from({ length: K * N }, () => (next() - 0.5) * 0.04);
  // A full-rank X^T X from 2K random samples, as calibration gives.
  const h = new Float64Array(K * K);
  const x = new Float64Array(K);
  for (let s = 0; s < 64; s++) {
    for (let k = 0; k < K; k++) x[k] = next() - 0.5;
    for (let a = 0; a < K; a++) { const xa = x[a]!; for (let b = 0; b < K; b++) h[a * K + b]! += xa * x[b]!; }
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await quantizeGptq(w, K, N, { bits: 4, blockSize: 32, symmetric: false }, h, dp, { dampPercent: 0.01 });
  const c = process.cpuUsage(c0);
  // CPU time too: on a shared machine the wall time depends on the other jobs.
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

export const suite: BenchSuite = {
  name: 'gptq-layer-time',
  description: 'GPTQ seconds for one 2048x2048, 2048x5632, 5632x2048 and 4096x4096 layer (int4 block 32)',
  async run({ quick, log }): Promise<BenchReport> {
    const timing: (string | number)[][] = [];
    const metrics: Record<string, number> = {};
    const dp = new DenseProducts();
    try {
      // 5632 x 2048 is a down-projection: K^3 (the factor of its Hessian) grows with K, not N.
      for (const [K, N] of quick ? [[2048, 2048]] : [[2048, 2048], [2048, 5632], [5632, 2048], [4096, 4096]]) {
        log(`GPTQ ${K}x${N}`);
        const s = await gptqSeconds(K!, N!, dp);
        timing.push([`${K}x${N}`, s.wall, s.cpu]);
        metrics[`gptq.${K}x${N}_cpu_s`] = s.cpu;
      }
    } finally {
      await dp.release();
    }
    return { tables: [{ title: 'GPTQ, one layer, int4 block 32, 1 thread', columns: ['K x N', 'wall s', 'CPU s'], rows: timing }], metrics, notes: [] };
  },
};
