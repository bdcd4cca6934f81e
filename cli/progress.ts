/** Progress events as one self-rewriting line on stderr, only when stderr is a terminal. */
import type { ProgressListener } from '../src/progress.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressListener | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  return (e) => {
    const now = Date.now();
    const done = e.total !== undefined && e.done >= e.total;
    if (!done && now - last < 200) return;
    last = now;
    const total = e.total !== undefined ? `/${e.total}` : '';
    const eta = e.etaSeconds !== undefined ? `, ${Math.ceil(e.etaSeconds)} s left` : '';
    stream.write(`\r${e.stage}: ${e.done}${total} samples${eta}${e.message ? ` (${e.message})` : ''}\x1b[K${done ? '\n' : ''}`);
  };
}
