/**
 * Per-node kernel times from ONNX Runtime's profiler: the model runs `runs` times in one session
 * (1 thread), and each node gets a trimmed mean of its per-run time, so one preempted run does not
 * move it. The optimized graph is saved from the same session, because the profile names ORT's
 * nodes (fused QLinearConv, layout Transposes, NCHWc reorders), not the model's.
 *
 * The profiler inflates every kernel time by a few microseconds (it records shapes and memory
 * statistics inside the timed span): measured on ORT 1.30, a ViT block's kernel times summed to
 * 3.3x the model's unprofiled run time. The same model is therefore also timed without the
 * profiler, and the excess, spread evenly over the nodes, is taken off each node.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../../ir/model.js';
import { loadModel } from '../../onnx/io.js';
import type { Engine } from '../../runtime/engine.js';
import { GRAPH_ONLY_CONFIG } from '../../runtime/graph-only-config.js';
import type { Feeds } from '../../runtime/types.js';

export interface NodeProfile {
  /** ORT node name -> kernel time per run (ms, trimmed mean over the runs, profiler overhead removed). */
  times: Map<string, number>;
  /** The profiler's own cost per node (ms), removed from every time above. */
  overheadMs: number;
  /** The model's run time without the profiler (ms, trimmed mean). */
  runMs: number;
  /** The graph ORT ran (level 'all'), whose node names the times use. */
  optimized: Model;
  runs: number;
}

export interface ProfileEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
}

/**
 * ORT writes one event per line, its fixed fields first: '{"cat" : "Node","pid" :1,"tid" :2,
 * "dur" :403,"ts" :10468,"ph" : "X","name" :"conv_kernel_time","args" : {...}}'.
 */
const EVENT_LINE = /^\{"cat" : "(\w+)","pid" :\d+,"tid" :\d+,"dur" :(\d+),"ts" :(\d+),"ph" : "X","name" :"((?:[^"\\]|\\.)*)"/gm;

/**
 * The events of an ORT profile (cat, name, ts, dur; not their args). Read line by line: a 250-run
 * profile of a ViT block is 18 MB, and JSON.parse of all of it (every event's args: shapes, memory
 * counters) took 0.9 s here, most of a small model's profile. Any other layout (another ORT
 * version) is parsed as JSON.
 */
export function readProfileEvents(text: string): ProfileEvent[] {
  const events: ProfileEvent[] = [];
  for (const m of text.matchAll(EVENT_LINE)) {
    const name = m[4]!.includes('\\') ? JSON.parse(`"${m[4]}"`) as string : m[4]!;
    events.push({ cat: m[1]!, dur: Number(m[2]), ts: Number(m[3]), name });
  }
  // Every event has a "cat": as many as were read, or the layout is not the one expected.
  let cats = 0;
  for (let i = text.indexOf('"cat"'); i >= 0; i = text.indexOf('"cat"', i + 1)) cats++;
  return events.length === cats ? events : (JSON.parse(text) as ProfileEvent[]);
}

/**
 * Mean of the middle 60% of the runs: robust to a preempted run like a median, and finer than
 * the profiler's 1 us resolution (a median of integer microseconds cannot tell 4.2 from 4.4).
 */
function trimmedMean(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(s.length * 0.2);
  const mid = s.slice(cut, s.length - cut);
  return mid.reduce((a, b) => a + b, 0) / mid.length;
}

/** Per-run kernel time of every node (trimmed mean), from the events of ORT's profile (JSON array). */
export function nodeTimesFromEvents(events: ProfileEvent[], skipRuns = 0): { times: Map<string, number>; runs: number } {
  const runs = events.filter((e) => e.name === 'model_run' && e.ts !== undefined).map((e) => e.ts!).sort((a, b) => a - b);
  const runOf = (ts: number): number => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid]! <= ts) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const perRun = new Map<string, Float64Array>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts === undefined || e.dur === undefined) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    let a = perRun.get(node);
    if (!a) perRun.set(node, (a = new Float64Array(Math.max(runs.length, 1))));
    a[runs.length ? runOf(e.ts) : 0]! += e.dur / 1000;
  }
  const measured = Math.max(runs.length - skipRuns, 1);
  const times = new Map<string, number>();
  for (const [node, a] of perRun) times.set(node, trimmedMean(Array.from(a.subarray(a.length - measured))));
  return { times, runs: measured };
}

/**
 * A small model's profile is written, read and scanned per run (70 KB per run of a ViT block), and
 * that cost more than the runs: 120 runs keep each node's trimmed mean over 72 of them, well inside
 * the 5% a region must win by (REGION_MARGIN), in about 0.5 s where 250 runs took 1.5 s (vit_tiny).
 */
const MAX_PROFILE_RUNS = 120;

/**
 * Profiles `model` on `feeds`: `warmup` runs, then `runs` measured runs (a count, or as many as fit
 * in `budgetMs` at the warm-up's pace, 10 to MAX_PROFILE_RUNS). Then, in the same session with the profiler
 * stopped (ORT records nothing after endProfiling: measured on ResNet-50, 44.90 ms per run there
 * against 44.92 ms in a session of its own), `ceil(runs / 2)` plain runs give the run time the
 * kernel times are compared with.
 */
export async function profileNodes(engine: Engine, model: Model, feeds: Feeds, runs: number | { budgetMs: number }, warmup = 3): Promise<NodeProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'slimnet-profile-'));
  try {
    const session = await engine.createSession(model, {
      intraOpThreads: 1, interOpThreads: 1, profilePrefix: join(dir, 'profile'), optimizedModelPath: join(dir, 'optimized.onnx'),
      config: { ...GRAPH_ONLY_CONFIG },
    });
    let measured: number;
    let runMs: number;
    try {
      const warm = await session.time(feeds, warmup);
      measured = typeof runs === 'number' ? runs : Math.max(10, Math.min(MAX_PROFILE_RUNS, Math.round(runs.budgetMs / Math.max(Math.min(...warm), 1e-3))));
      await session.time(feeds, measured);
      await session.endProfiling();
      runMs = trimmedMean((await session.time(feeds, 1 + Math.ceil(measured / 2))).slice(1));
    } finally {
      await session.release();
    }
    const file = readdirSync(dir).find((f) => f.startsWith('profile') && f.endsWith('.json'));
    const events = file ? readProfileEvents(readFileSync(join(dir, file), 'utf8')) : [];
    const { times, runs: profiled } = nodeTimesFromEvents(events, warmup);
    const total = [...times.values()].reduce((a, b) => a + b, 0);
    const overheadMs = times.size ? Math.max(0, (total - runMs) / times.size) : 0;
    for (const [k, v] of times) times.set(k, Math.max(0, v - overheadMs));
    return { times, overheadMs, runMs, optimized: loadModel(join(dir, 'optimized.onnx')), runs: profiled };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
