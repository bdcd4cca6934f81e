// @ts-check
/**
 * Child process of runProbe (memory-probe.ts): loads one model into a fresh ONNX Runtime, runs it,
 * and reports its peak resident memory. A process of its own is the only way to attribute peak
 * memory to one model (sessions on the shared worker thread all count towards one process's RSS),
 * and it keeps a native crash of ONNX Runtime out of slimnet (load checks, load-check.ts).
 *
 * Plain JavaScript (type-checked through JSDoc), not TypeScript: node starts it as it is, from the
 * sources too. Through tsx's loader a check took twice as long (0.49 s against 0.23 s on ResNet).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

/** @typedef {import('./memory-probe.js').ProbeRequest} ProbeRequest */
/** @typedef {import('./memory-probe.js').ProbeReply} ProbeReply */

/**
 * Peak resident memory of this process. On Linux VmHWM, because ru_maxrss survives exec: a child
 * forked from a large parent would report the parent's size as its own peak.
 * @returns {number}
 */
function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  // ru_maxrss is in kilobytes on Linux and macOS.
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * @param {ProbeRequest['feeds']} feeds
 * @returns {Record<string, ort.Tensor>}
 */
function toOrt(feeds) {
  /** @type {Record<string, ort.Tensor>} */
  const out = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = new ort.Tensor(/** @type {never} */ (t.type), /** @type {never} */ (t.data), t.dims);
  return out;
}

/** Forked with an IPC channel (runProbe), so process.send exists. */
const send = /** @type {(message: ProbeReply | { loaded: true }, callback?: () => void) => void} */ (process.send?.bind(process));

// A load check (`reuse`) waits for the next model; a memory probe measures one model and exits.
// Either way the process ends with its parent (the IPC channel closes).
process.on('disconnect', () => process.exit(0));
process.on('message', async (/** @type {ProbeRequest} */ req) => {
  /** @type {ProbeReply} */
  let reply;
  try {
    const baseline = process.memoryUsage().rss;
    const session = await ort.InferenceSession.create(/** @type {never} */ (req.source), {
      executionProviders: [req.provider],
      intraOpNumThreads: req.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: req.level ?? 'all',
      // Fatal only: a failing run is reported once, by slimnet, as one line (ORT would also print it).
      logSeverityLevel: 4,
    });
    // Tells the parent the load (and ORT's graph optimizations) passed, should the run crash.
    send({ loaded: true });
    const feeds = toOrt(req.feeds);
    for (let i = 0; i < req.runs; i++) await session.run(feeds);
    reply = { ok: true, baselineRssBytes: baseline, peakRssBytes: peakRss() };
    await session.release();
  } catch (err) {
    reply = { ok: false, error: /** @type {Error} */ (err).message.split('\n')[0] ?? '' };
  }
  send(reply, () => { if (!req.reuse) process.exit(0); });
});
