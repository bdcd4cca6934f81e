/**
 * `benchmark(models)`: "how much faster is it, here?" Every (model, execution provider) pair is
 * warmed up and then timed interleaved with the others, inside the inference worker, so drift and
 * neighbours hit all of them alike. A provider that is not available gets a row saying so and how
 * to install it; it is never silently replaced by another.
 */
import type { Model } from '../ir/model.js';
import { Engine } from '../runtime/engine.js';
import { explainProviderFailure, providerStatus, KNOWN_PROVIDERS } from '../runtime/providers.js';
import { measurePeakMemory } from '../runtime/memory-probe.js';
import { modelToBytes } from '../onnx/io.js';
import type { ExecutionProvider, Feeds, Session } from '../runtime/types.js';
import type { DataSource } from '../calibrate/data/open.js';
import { CancelledError, InvalidModelError, OptionError, UnsupportedOpError, errorMessage } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { detectHardware, type HardwareInfo } from '../target/hardware.js';
import { checkSaturation } from './saturation.js';
import { measureSessions, runsWithinBudget, type LatencyStats } from '../tune/latency.js';
import { modelRef, type ModelRef } from './model-runs.js';
import { modelSizeBytes } from './hash.js';
import { dataFeeds, syntheticCount, syntheticFeeds } from './bench-feeds.js';

export interface BenchmarkOptions {
  /** Execution providers to time each model on (default ['cpu']). */
  providers?: ExecutionProvider[];
  /** Intra-op threads (default 1: stable, comparable numbers). */
  threads?: number;
  /** Samples per run (default 1). */
  batch?: number;
  warmup?: number;
  runs?: number;
  /** Real samples to time on, a path or a Dataset (default: deterministic random inputs). */
  data?: DataSource;
  /** Measure each model's peak memory in a separate process (default true). */
  memory?: boolean;
  engine?: Engine;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface BenchmarkRow {
  model: string;
  provider: ExecutionProvider;
  available: boolean;
  /** Why the provider could not run this model, and how to get it. */
  reason?: string;
  sizeBytes: number;
  latency?: LatencyStats;
  /** Samples per second at the median latency. */
  throughput?: number;
  /** Peak resident memory of a process running only this model, and the part the model added. */
  peakRssBytes?: number;
  modelMemoryBytes?: number;
  /** Against the first model on the same provider: >1 = faster / larger. */
  speedup?: number;
  sizeRatio: number;
}

export interface BenchmarkResult {
  rows: BenchmarkRow[];
  batch: number;
  threads: number;
  runs: number;
  hardware: HardwareInfo;
  warnings: string[];
  notes: string[];
}

function validate(o: BenchmarkOptions): void {
  for (const [k, v] of [['threads', o.threads], ['batch', o.batch], ['runs', o.runs]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new OptionError(`--${k} must be a positive integer, got ${v}`);
  }
  if (o.warmup !== undefined && !(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new OptionError(`warm-up runs must be a non-negative integer, got ${o.warmup}`);
  for (const p of o.providers ?? []) {
    if (!KNOWN_PROVIDERS.includes(p)) throw new OptionError(`--ep: unknown execution provider '${p}' (known: ${KNOWN_PROVIDERS.join(', ')})`);
  }
}

const DEFAULT_RUNS = 50;
const DEFAULT_WARMUP = 10;

/** Warm-up and timed runs: as given, else the defaults, fewer when one run (an untimed one of each model) is long. */
async function planRuns(timed: { session: Session; feeds: Feeds }[], o: BenchmarkOptions, notes: string[]): Promise<{ warmup: number; runs: number }> {
  if (o.runs !== undefined || o.warmup !== undefined || !timed.length) return { warmup: o.warmup ?? DEFAULT_WARMUP, runs: o.runs ?? DEFAULT_RUNS };
  let slowest = 0;
  for (const t of timed) slowest = Math.max(slowest, ...(await t.session.time(t.feeds, 1)));
  const plan = runsWithinBudget(slowest, { runs: DEFAULT_RUNS, warmup: DEFAULT_WARMUP });
  if (plan.note) notes.push(plan.note);
  return plan;
}

export async function benchmark(models: (Model | string)[], options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  validate(options);
  if (!models.length) throw new OptionError('benchmark needs at least one model');
  const refs: ModelRef[] = models.map(modelRef);
  const batch = options.batch ?? 1;
  const threads = options.threads ?? 1;
  const providers = [...new Set(options.providers?.length ? options.providers : ['cpu' as const])];
  const engine = options.engine ?? new Engine({ signal: options.signal });
  const hardware = detectHardware();
  const rows: BenchmarkRow[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const sessions: Session[] = [];
  let runs = options.runs ?? DEFAULT_RUNS;
  try {
    const feeds: Feeds[] = [];
    const counts: number[] = [];
    for (const r of refs) {
      const f = options.data ? await dataFeeds(options.data, r.model, batch) : { feeds: syntheticFeeds(r.model, batch, r.label), count: syntheticCount(r.model, batch) };
      if (f.count !== batch) notes.push(`${r.label} takes batches of ${f.count} sample${f.count === 1 ? '' : 's'}; it was timed on that, not on ${batch}`);
      feeds.push(f.feeds);
      counts.push(f.count);
    }
    const sizes = refs.map((r) => modelSizeBytes(r.model, r.path));
    const timed: { row: BenchmarkRow; session: Session; feeds: Feeds; ref: ModelRef; count: number }[] = [];
    for (const provider of providers) {
      const status = providerStatus(provider);
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i]!;
        const row: BenchmarkRow = { model: ref.label, provider, available: status.available, sizeBytes: sizes[i]!, sizeRatio: sizes[i]! / sizes[0]! };
        rows.push(row);
        if (!status.available) { row.reason = status.reason; continue; }
        try {
          const s = await engine.createSession(ref.path ?? ref.model, { providers: [provider], strictProviders: true, intraOpThreads: threads, interOpThreads: 1 });
          sessions.push(s);
          timed.push({ row, session: s, feeds: feeds[i]!, ref, count: counts[i]! });
        } catch (err) {
          if (err instanceof CancelledError) throw err;
          // A model the CPU provider cannot load is broken, not slow: that is an error, not a row.
          const modelFault = err instanceof UnsupportedOpError || err instanceof InvalidModelError;
          if (modelFault && provider === 'cpu') throw err;
          row.available = false;
          row.reason = modelFault ? errorMessage(err) : explainProviderFailure(provider, errorMessage(err));
        }
      }
    }
    const plan = await planRuns(timed, options, notes);
    runs = plan.runs;
    const stats = await measureSessions(timed.map((t) => t.session), timed.map((t) => t.feeds), {
      warmup: plan.warmup, runs: plan.runs, signal: options.signal, onProgress: options.onProgress,
    });
    timed.forEach((t, i) => {
      t.row.latency = stats[i]!;
      t.row.throughput = (t.count * 1000) / stats[i]!.medianMs;
    });
    for (const provider of providers) {
      const first = rows.find((r) => r.provider === provider && r.model === refs[0]!.label);
      for (const r of rows) if (r.provider === provider && r.latency && first?.latency) r.speedup = first.latency.medianMs / r.latency.medianMs;
    }
    if (options.memory ?? true) {
      for (const t of timed) {
        const mem = await measurePeakMemory(t.ref.path ?? modelToBytes(t.ref.model), t.feeds, { provider: t.row.provider, threads });
        t.row.peakRssBytes = mem.peakRssBytes;
        t.row.modelMemoryBytes = mem.modelBytes;
      }
    }
    // Int8 ops that saturate on this CPU (x86 without VNNI) are slower to notice than to time.
    if (providers.includes('cpu')) {
      for (let i = 0; i < refs.length; i++) {
        const sat = await checkSaturation(refs[i]!.model, engine, [feeds[i]!], refs[i]!.path ?? refs[i]!.model);
        if (sat.message) (sat.hostSaturates ? warnings : notes).push(`${refs[i]!.label}: ${sat.message}`);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
    if (!options.engine) await engine.close();
  }
  return { rows, batch, threads, runs, hardware, warnings, notes };
}
