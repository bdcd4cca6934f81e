/**
 * Progress on stderr. On a terminal: one line, rewritten in place, with the stage, the count, the
 * percent and the time left when the events carry them. Elsewhere (pipes, CI, log files): nothing,
 * unless --verbose, which prints plain lines: one when a stage starts, at each quarter and when it
 * ends. --quiet: nothing anywhere.
 */
import type { ProgressEvent, ProgressListener } from '../src/progress.js';
import { verbosity } from './output.js';

function describe(e: ProgressEvent): string {
  const count = e.total !== undefined ? `${e.done}/${e.total}` : String(e.done);
  const percent = e.total ? ` (${Math.floor((100 * e.done) / e.total)}%)` : '';
  const eta = e.etaSeconds !== undefined ? `, ${Math.ceil(e.etaSeconds)} s left` : '';
  return `${e.stage} ${count}${percent}${eta}${e.message ? ` ${e.message}` : ''}`;
}

function ttyProgress(): ProgressListener {
  let last = 0;
  return (e: ProgressEvent) => {
    const now = Date.now();
    const finished = e.total !== undefined && e.done >= e.total;
    if (!finished && now - last < 100) return;
    last = now;
    // Cut to the terminal's width: a wrapped line could not be rewritten in place.
    const width = process.stderr.columns ? process.stderr.columns - 1 : 79;
    process.stderr.write(`\r\x1b[2K${describe(e).slice(0, width)}`);
    if (finished) process.stderr.write('\r\x1b[2K');
  };
}

function lineProgress(): ProgressListener {
  let stage = '';
  let quarter = -1;
  let message: string | undefined;
  return (e: ProgressEvent) => {
    const q = e.total ? Math.min(4, Math.floor((4 * e.done) / e.total)) : -1;
    // A line per quarter of a stage, and whenever the message changes (a new part of a model calibrated layer by layer).
    if (e.stage === stage && q === quarter && e.message === message) return;
    stage = e.stage;
    quarter = q;
    message = e.message;
    process.stderr.write(`${describe(e)}\n`);
  };
}

export function terminalProgress(): ProgressListener | undefined {
  const level = verbosity();
  if (level === 'quiet') return undefined;
  if (process.stderr.isTTY) return ttyProgress();
  return level === 'verbose' ? lineProgress() : undefined;
}
