/**
 * Measures whether ONNX Runtime's u8 x s8 integer matrix multiply saturates on this CPU: one
 * MatMulInteger of 255 x 127 over K = 64, exact = 2,072,640. Without VNNI, MLAS's U8S8 kernels
 * (VPMADDUBSW) add each pair of products into an int16 that saturates at 32,767 and return
 * 32 x 32,767 instead. Runs in a few milliseconds; cached for the process.
 */
import { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/data-type.js';
import { Tensor } from '../ir/tensor.js';
import type { Engine } from '../runtime/engine.js';

const K = 64;
const EXACT = 255 * 127 * K;

function probeModel() {
  const b = new GraphBuilder({ opset: 13, graphName: 'u8s8_probe' });
  const a = b.input('a', DataType.UINT8, [1, K]);
  const w = b.initializer('w', Tensor.fromTyped(DataType.INT8, [K, 1], new Int8Array(K).fill(127)));
  b.output(b.op('MatMulInteger', [a, w], {}, { outputNames: ['y'] }));
  return b.build();
}

export interface Int8Probe {
  /** The sum ONNX Runtime returned and the exact one. */
  measured: number;
  exact: number;
  u8s8Exact: boolean;
}

let cached: Promise<Int8Probe> | undefined;

/** Runs the probe once per process on the CPU execution provider. */
export function probeU8S8(engine: Engine): Promise<Int8Probe> {
  cached ??= (async () => {
    const s = await engine.createSession(probeModel(), { providers: ['cpu'], intraOpThreads: 1 });
    try {
      const out = await s.run({ a: { type: 'uint8', dims: [1, K], data: new Uint8Array(K).fill(255) } });
      const measured = Number((out.y!.data as Int32Array)[0]);
      return { measured, exact: EXACT, u8s8Exact: measured === EXACT };
    } finally {
      await s.release();
    }
  })();
  cached.catch(() => { cached = undefined; });
  return cached;
}
