/**
 * A full garbage collection, on request. Layer-by-layer quantization of a 1B decoder frees a
 * layer's large typed arrays (GPTQ's 1 GB of work arrays, a part's X^T X) just before the next
 * layer allocates its own; V8 collects them on its own schedule, so old and new briefly coexisted
 * and set the peak RSS (3.4 GB instead of about 2.5 GB). Between parts, slimnet collects first.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      // The documented way to reach V8's gc without --expose-gc on the command line.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}
