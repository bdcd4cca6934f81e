/** The shape of a benchmark suite: `npm run bench` runs every bench/suites/*.ts. */
import type { Engine } from '../src/runtime/engine.js';

export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface BenchReport {
  tables: BenchTable[];
  /** Named numbers tracked from run to run (e.g. 'resnet_bn.int8_speedup'). */
  metrics: Record<string, number>;
  notes: string[];
}

export interface BenchContext {
  engine: Engine;
  /** BENCH_QUICK=1: fewer runs, for a smoke check. */
  quick: boolean;
  log(message: string): void;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}
