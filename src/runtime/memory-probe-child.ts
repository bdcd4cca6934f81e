/**
 * Child process of measurePeakMemory: loads one model into a fresh ONNX Runtime, runs it, and
 * reports its peak resident memory. A process of its own is the only way to attribute peak memory
 * to one model: sessions on the shared worker thread all count towards one process's RSS.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ProbeRequest, ProbeReply } from './memory-probe.js';

/**
 * Peak resident memory of this process. On Linux VmHWM, because ru_maxrss survives exec: a child
 * forked from a large parent would report the parent's size as its own peak.
 */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  // ru_maxrss is in kilobytes on Linux and macOS.
  return process.resourceUsage().maxRSS * 1024;
}

function toOrt(feeds: ProbeRequest['feeds']): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = new ort.Tensor(t.type as never, t.data as never, t.dims);
  return out;
}

process.once('message', async (req: ProbeRequest) => {
  let reply: ProbeReply;
  try {
    const baseline = process.memoryUsage().rss;
    const session = await ort.InferenceSession.create(req.source as never, {
      executionProviders: [req.provider],
      intraOpNumThreads: req.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: req.level ?? 'all',
      // Fatal only: a failing run is reported once, by slimnet, as one line (ORT would also print it).
      logSeverityLevel: 4,
    });
    // Tells the parent the load (and ORT's graph optimizations) passed, should the run crash.
    process.send!({ loaded: true });
    const feeds = toOrt(req.feeds);
    for (let i = 0; i < req.runs; i++) await session.run(feeds);
    reply = { ok: true, baselineRssBytes: baseline, peakRssBytes: peakRss() };
    await session.release();
  } catch (err) {
    reply = { ok: false, error: (err as Error).message.split('\n')[0]! };
  }
  process.send!(reply, () => process.exit(0));
});
