/**
 * A check process waits (unreferenced, a few seconds) for the next load check. When this process
 * was busy past that wait (a long synchronous step, a blocking child such as the qemu runs of
 * emulated-avx2.test.ts), the wait's timer fires late, in the same turn of the event loop as the
 * next check: that check must get a fresh process, never the one the timer has just killed.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { tensorType } from '../../src/ir/types.js';
import { checkLoadsInChild } from '../../src/runtime/load-check.js';

function relu() {
  const b = new GraphBuilder({ opset: 17 });
  b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [1, 8])], {}, { outputNames: ['y'] }), tensorType(DataType.FLOAT, [1, 8]));
  return b.model;
}

/** Blocks this thread, timers included, as a synchronous child process would. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('check process reuse', () => {
  it('a check right after the idle wait ran out (its timer firing late) runs in a live process', async () => {
    const model = relu();
    expect((await checkLoadsInChild(model, 'the model')).outcome).toBe('ran');
    blockFor(5_300);
    // Resumes in the timers phase, right after the overdue idle timer: the killed process has not
    // been reported dead yet.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await checkLoadsInChild(model, 'the model')).outcome).toBe('ran');
  }, 30_000);
});
