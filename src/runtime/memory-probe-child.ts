/**
 * Child process of measurePeakMemory: loads one model into a fresh ONNX Runtime, runs it, and
 * reports its peak resident memory. A process of its own is the only way to attribute peak memory
 * to one model: sessions on the shared worker thread all count towards one process's RSS.
 */
import * as ort from 'onnxruntime-node';
import type { ProbeRequest, ProbeReply } from './memory-probe.js';

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
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    const feeds = toOrt(req.feeds);
    for (let i = 0; i < req.runs; i++) await session.run(feeds);
    // ru_maxrss is in kilobytes on Linux and macOS.
    reply = { ok: true, baselineRssBytes: baseline, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
    await session.release();
  } catch (err) {
    reply = { ok: false, error: (err as Error).message.split('\n')[0]! };
  }
  process.send!(reply, () => process.exit(0));
});
