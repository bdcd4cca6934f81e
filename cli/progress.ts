/** A one-line progress display on stderr for interactive terminals (nothing when piped). */
import type { ProgressEvent, ProgressListener } from '../src/progress.js';

export function terminalProgress(): ProgressListener | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (e: ProgressEvent) => {
    const now = Date.now();
    const finished = e.total !== undefined && e.done >= e.total;
    if (!finished && now - last < 100) return;
    last = now;
    const count = e.total !== undefined ? `${e.done}/${e.total}` : String(e.done);
    const eta = e.etaSeconds !== undefined ? `, ${Math.ceil(e.etaSeconds)} s left` : '';
    process.stderr.write(`\r\x1b[2K${e.stage} ${count}${eta}${e.message ? ` ${e.message}` : ''}`);
    if (finished) process.stderr.write('\r\x1b[2K');
  };
}
