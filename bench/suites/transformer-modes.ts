/**
 * Dynamic int8 and weight-only int4 on a transformer of realistic width (hidden 768, 4 layers,
 * sequence 128, random weights): latency against float32 (interleaved, 1 intra-op thread) and file
 * size. Goals (issue 6): dynamic >= 2x faster than float32; weight-only int4 file <= 0.2x float32.
 */
import { modelToBytes } from '../../src/onnx/io.js';
import { measureInterleaved } from '../../src/tune/latency.js';
import { quantizeDynamic } from '../../src/quantize/dynamic/quantize-dynamic.js';
import { quantizeWeightOnly } from '../../src/quantize/weight-only/quantize-weight-only.js';
import { convertToFp16 } from '../../src/quantize/fp16/convert.js';
import { BENCH_TRANSFORMER, loadTransformer } from '../../fixtures/bench/transformer.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import type { Model } from '../../src/ir/model.js';
import type { Feeds } from '../../src/runtime/types.js';
import type { BenchSuite } from '../types.js';

const MB = 1024 * 1024;

async function outputError(engine: import('../../src/runtime/engine.js').Engine, ref: Model, m: Model, feeds: Feeds): Promise<number> {
  const run = async (x: Model) => {
    const s = await engine.createSession(x);
    try { return Object.values(await s.run(feeds))[0]!.data as Float32Array; } finally { await s.release(); }
  };
  const [a, b] = [await run(ref), await run(m)];
  let e = 0, r = 0;
  for (let i = 0; i < a.length; i++) { e += (a[i]! - b[i]!) ** 2; r += a[i]! ** 2; }
  return Math.sqrt(e / r);
}

export const suite: BenchSuite = {
  name: 'transformer-modes',
  description: `fp32 vs dynamic int8 vs weight-only int4, transformer ${BENCH_TRANSFORMER.layers} layers x hidden ${BENCH_TRANSFORMER.hidden}, sequence ${BENCH_TRANSFORMER.seq}`,
  async run({ engine, quick, log }) {
    const shape = BENCH_TRANSFORMER;
    log('building or loading the transformer (fixtures/generated/)');
    const fp32 = loadTransformer(shape);
    const variants: [string, Model][] = [['fp32', fp32]];
    variants.push(['dynamic int8', (await quantizeDynamic(fp32)).model]);
    variants.push(['weight-only int4 b32 (acc 4)', (await quantizeWeightOnly(fp32, { weights: 'int4', blockSize: 32 })).model]);
    variants.push(['weight-only int4 b32 (acc 0)', (await quantizeWeightOnly(fp32, { weights: 'int4', blockSize: 32, accuracyLevel: 0 })).model]);
    const fp16 = (await convertToFp16(fp32)).model;
    const sizes = new Map(variants.map(([name, m]) => [name, modelToBytes(m).length]));
    const fp16Bytes = modelToBytes(fp16).length;
    const rng = new Rng(1);
    const feeds: Feeds = { hidden_states: { type: 'float32', dims: [1, shape.seq, shape.hidden], data: rng.normals(shape.seq * shape.hidden) } };
    log('measuring latency (interleaved, 1 intra-op thread)');
    const stats = await measureInterleaved(variants.map(([, m]) => m), feeds, { engine, warmup: quick ? 2 : 5, runs: quick ? 5 : 20 });
    const errors = [0];
    for (const [, m] of variants.slice(1)) errors.push(await outputError(engine, fp32, m, feeds));
    const base = stats[0]!.medianMs;
    const fp32Bytes = sizes.get('fp32')!;
    const rows = variants.map(([name], i) => [name, stats[i]!.medianMs, stats[i]!.p90Ms, base / stats[i]!.medianMs, sizes.get(name)! / MB, sizes.get(name)! / fp32Bytes, errors[i]!]);
    rows.push(['fp16 (size only: a GPU format)', '-', '-', '-', fp16Bytes / MB, fp16Bytes / fp32Bytes, '-'] as never);
    const dynSpeedup = base / stats[1]!.medianMs;
    const woRatio = sizes.get('weight-only int4 b32 (acc 4)')! / fp32Bytes;
    return {
      tables: [{
        title: `transformer ${shape.layers}x${shape.hidden}, seq ${shape.seq}, batch 1`,
        columns: ['model', 'median ms', 'p90 ms', 'speed-up', 'MB', 'size ratio', 'rel. output error'],
        rows,
      }],
      metrics: {
        'transformer.fp32_ms': base,
        'transformer.dynamic_speedup': dynSpeedup,
        'transformer.wo_int4_speedup': base / stats[2]!.medianMs,
        'transformer.wo_int4_acc0_speedup': base / stats[3]!.medianMs,
        'transformer.wo_int4_size_ratio': woRatio,
        'transformer.dynamic_size_ratio': sizes.get('dynamic int8')! / fp32Bytes,
        'transformer.fp16_size_ratio': fp16Bytes / fp32Bytes,
      },
      notes: [
        `dynamic int8 speed-up ${dynSpeedup.toFixed(2)}x (goal >= 2x): ${dynSpeedup >= 2 ? 'met' : 'MISSED'}`,
        `weight-only int4 file ${woRatio.toFixed(3)}x of fp32 (goal <= 0.2x): ${woRatio <= 0.2 ? 'met' : 'MISSED'}`,
        'random weights: the output errors are a sanity check, not an accuracy figure',
      ],
    };
  },
};
