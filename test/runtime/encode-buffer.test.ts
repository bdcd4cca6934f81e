import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { Engine } from '../../src/runtime/engine.js';
import { EncodeBuffer, MAX_POOLED_BYTES } from '../../src/runtime/encode-buffer.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

/** y = x @ W with W (512 x 1024, 2 MiB) filled with `value`: large enough for the reusable buffer. */
function scaled(value: number) {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, 512]);
  b.output(b.op('MatMul', [x, b.floats('w', [512, 1024], new Float32Array(512 * 1024).fill(value))], {}, { outputNames: ['y'] }));
  return b.model;
}

describe('EncodeBuffer', () => {
  it('hands out the buffer it got back, and fresh memory for models too small or too large to pool', () => {
    const pool = new EncodeBuffer();
    const a = pool.alloc(3 * 2 ** 20);
    expect(pool.owns(a)).toBe(true);
    pool.giveBack(a.buffer as ArrayBuffer);
    const b = pool.alloc(2 * 2 ** 20);
    expect(b.buffer).toBe(a.buffer); // the spare, large enough
    expect(b.byteLength).toBe(2 * 2 ** 20);
    // While it is away, the next one gets its own memory.
    expect(pool.alloc(2 * 2 ** 20).buffer).not.toBe(a.buffer);
    expect(pool.owns(pool.alloc(1000))).toBe(false);
    expect(pool.owns(pool.alloc(MAX_POOLED_BYTES + 1))).toBe(false);
  });

  it('a session keeps its own model after the buffer is reused for the next one', async () => {
    // Each model is encoded into the buffer the previous create sent back, overwriting it: a
    // session that still read those bytes would compute with the other model's weights.
    const sessions = [];
    for (const value of [1, 2, 3]) sessions.push(await engine.createSession(scaled(value)));
    const x = { x: { type: 'float32' as const, dims: [1, 512], data: new Float32Array(512).fill(1) } };
    for (const [i, s] of sessions.entries()) {
      const y = (await s.run(x)).y!.data as Float32Array;
      expect(y[0]).toBe(512 * (i + 1));
      expect(y[1023]).toBe(512 * (i + 1));
      await s.release();
    }
  });
});
