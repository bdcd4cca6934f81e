/**
 * `npm run bench [suite ...]`: runs the benchmark suites in bench/suites, prints their tables and
 * writes bench/results/latest.json (the previous run is kept as previous.json and metrics are
 * compared with it). Speed numbers are medians of interleaved runs with 1 intra-op thread.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine } from '../src/runtime/engine.js';
import { detectHardware } from '../src/target/hardware.js';
import { describeTarget, resolveTarget } from '../src/target/resolve.js';
import type { BenchReport, BenchSuite, BenchTable } from './types.js';
import { gatherSummary, summaryTable, type SummaryRow } from './summary.js';

const here = dirname(fileURLToPath(import.meta.url));

function formatTable(t: BenchTable): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(3)) : c)))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  return [t.title, line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const files = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.ts')).sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(here, 'suites', f)).href)) as { suite: BenchSuite };
    if (!wanted.length || wanted.includes(mod.suite.name)) suites.push(mod.suite);
  }
  if (!suites.length) {
    console.log(`no benchmark suites${wanted.length ? ` named ${wanted.join(', ')}` : ''} (available: ${files.map((f) => f.replace('.ts', '')).join(', ') || 'none'})`);
    return;
  }
  const hardware = detectHardware();
  const engine = new Engine({ intraOpThreads: 1, interOpThreads: 1 });
  // Every table is this CPU's: its model, int8 flags and the measured u8 x s8 arithmetic come first.
  const target = await resolveTarget('host', engine);
  console.log(`${hardware.cpuModel}, ${hardware.cores} cores, int8 flags: ${hardware.int8Flags.join(' ') || 'none'}; onnxruntime-node ${hardware.ortVersion}, Node ${hardware.nodeVersion}`);
  console.log(`${describeTarget(target)}\n`);
  const quick = process.env.BENCH_QUICK === '1';
  const results: Record<string, BenchReport> = {};
  try {
    for (const s of suites) {
      console.log(`== ${s.name}: ${s.description}`);
      const t0 = performance.now();
      const report = await s.run({ engine, quick, log: (m) => console.log(`   ${m}`) });
      results[s.name] = report;
      for (const t of report.tables) console.log(`${formatTable(t)}\n`);
      for (const n of report.notes) console.log(`note: ${n}`);
      console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    await engine.close();
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const latest = join(dir, 'latest.json');
  let previous: { suites?: Record<string, BenchReport>; summary?: SummaryRow[] } | undefined;
  if (existsSync(latest)) {
    renameSync(latest, join(dir, 'previous.json'));
    previous = JSON.parse(readFileSync(join(dir, 'previous.json'), 'utf8'));
  }
  const summary = gatherSummary(results);
  if (summary.length) console.log(`${formatTable(summaryTable(summary, previous?.summary))}\n`);
  writeFileSync(latest, JSON.stringify({ date: new Date().toISOString(), hardware, target: { name: target.name, basis: target.basis }, quick, summary, suites: results }, null, 2));
  if (previous?.suites) {
    const changes: string[] = [];
    for (const [name, r] of Object.entries(results)) {
      for (const [k, v] of Object.entries(r.metrics)) {
        const old = previous.suites[name]?.metrics[k];
        if (old !== undefined && old !== 0) changes.push(`  ${name}.${k}: ${old.toPrecision(4)} -> ${v.toPrecision(4)} (${(((v - old) / Math.abs(old)) * 100).toFixed(1)}%)`);
      }
    }
    if (changes.length) console.log(`compared with the previous run:\n${changes.join('\n')}`);
  }
  console.log(`results written to ${latest}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
