/** `slimnet bench` output: the JSON document (schema slimnet.bench/1), the terminal table, and gate variables per model. */
import { VERSION } from '../../version.js';
import type { BenchmarkResult, BenchmarkRow } from '../benchmark.js';
import type { HardwareInfo } from '../../target/hardware.js';
import { gateDetail, type GateResult, type GateScope } from '../gate.js';
import { bytes, columns, ms, ratio } from './format.js';

export interface BenchReport extends BenchmarkResult {
  schema: 'slimnet.bench/1';
  slimnet: string;
  createdAt: string;
  gates: GateResult[];
  passed: boolean;
}

export function buildBenchReport(result: BenchmarkResult, gates: GateResult[] = []): BenchReport {
  return { schema: 'slimnet.bench/1', slimnet: VERSION, createdAt: new Date().toISOString(), ...result, gates, passed: gates.every((g) => g.passed) };
}

export function hardwareLine(hw: HardwareInfo): string {
  const vnni = hw.hasVnni ? 'yes' : 'no';
  return `${hw.cpuModel}, ${hw.cores} cores, ${hw.arch}; int8-relevant flags: ${hw.int8Flags.join(' ') || 'none'} (VNNI: ${vnni}); onnxruntime-node ${hw.ortVersion}, Node ${hw.nodeVersion}`;
}

export function formatBenchText(r: BenchReport): string {
  const lines = [hardwareLine(r.hardware), `${r.threads} intra-op thread${r.threads > 1 ? 's' : ''}, batch ${r.batch}, ${r.runs} interleaved runs per model after warm-up`, ''];
  const rows: string[][] = [['model', 'ep', 'median', 'p90', 'p99', 'throughput', 'size', 'peak memory', 'speedup', 'size ratio']];
  const unavailable: string[] = [];
  for (const row of r.rows) {
    if (!row.available || !row.latency) {
      rows.push([row.model, row.provider, 'not available', '', '', '', bytes(row.sizeBytes), '', '', ratio(row.sizeRatio)]);
      const why = `${row.provider}: ${row.reason ?? 'not available'}`;
      if (!unavailable.includes(why)) unavailable.push(why);
      continue;
    }
    rows.push([
      row.model, row.provider, ms(row.latency.medianMs), ms(row.latency.p90Ms), ms(row.latency.p99Ms),
      `${row.throughput!.toFixed(row.throughput! >= 100 ? 0 : 1)}/s`, bytes(row.sizeBytes),
      row.peakRssBytes ? `${bytes(row.peakRssBytes)} (+${bytes(row.modelMemoryBytes ?? 0)})` : '-',
      ratio(row.speedup), ratio(row.sizeRatio),
    ]);
  }
  lines.push(columns(rows));
  if (r.rows.some((x) => x.peakRssBytes)) lines.push('peak memory: a process running only that model; (+...) is what the model added to the runtime alone');
  for (const u of unavailable) lines.push(`not available: ${u}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const g of r.gates) lines.push(`gate ${g.gate}: ${g.passed ? 'passed' : 'FAILED'} ${gateDetail(g)}`);
  return lines.join('\n');
}

export const BENCH_VARIABLES = ['speedup', 'size_ratio', 'latency_ms', 'p90_ms', 'throughput', 'peak_memory_mb'];

/**
 * Gate variables of each model after the first (the baseline), per provider. A model that did not
 * run (it failed to load, or the provider is missing) still gets its scope, with the reason in
 * place of the values, so that its gates fail closed instead of vanishing.
 */
export function benchGateScopes(r: BenchmarkResult): { label: string; scope: GateScope }[] {
  // Rows come per provider, models in the order given: the first of each provider is the baseline
  // (by position: the same file may be timed twice).
  const providers = [...new Set(r.rows.map((row) => row.provider))];
  return providers.flatMap((provider) => {
    const [baseline, ...candidates] = r.rows.filter((row) => row.provider === provider);
    return candidates.map((row) => gateScope(row, baseline));
  });
}

/** The gate variables of one candidate row against its provider's baseline row. */
function gateScope(row: BenchmarkRow, baseline: BenchmarkRow | undefined): { label: string; scope: GateScope } {
  const notRun = row.latency ? undefined : `${row.model} did not run on ${row.provider}: ${row.reason ?? 'not available'}`;
  const baselineNotRun = baseline?.latency ? undefined : `the baseline ${baseline?.model} did not run on ${row.provider}: ${baseline?.reason ?? 'not available'}`;
  const v = (value: number | undefined, description: string, missing: string | undefined) => ({ value, description, ...(missing ? { missing } : {}) });
  return {
    label: `${row.model} on ${row.provider}`,
    scope: {
      speedup: v(row.speedup, 'first model median latency / this model median latency', notRun ?? baselineNotRun),
      size_ratio: v(row.sizeRatio, 'this model size / first model size', undefined),
      latency_ms: v(row.latency?.medianMs, 'median latency in ms', notRun),
      p90_ms: v(row.latency?.p90Ms, '90th percentile latency in ms', notRun),
      throughput: v(row.throughput, 'samples per second', notRun),
      peak_memory_mb: v(row.peakRssBytes === undefined ? undefined : row.peakRssBytes / 1e6, 'peak resident memory in MB', notRun ?? 'memory was not measured (drop --no-memory)'),
    },
  };
}
