import type { Command } from 'commander';
import { benchmark } from '../../src/eval/benchmark.js';
import { checkGates, enforceGates, validateFailIf, type GateResult } from '../../src/eval/gate.js';
import { BENCH_VARIABLES, benchGateScopes, buildBenchReport, formatBenchText } from '../../src/eval/report/bench-report.js';
import { OptionError } from '../../src/errors.js';
import type { ExecutionProvider } from '../../src/runtime/types.js';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { terminalProgress } from '../progress.js';
import { positiveInt, positiveNumber, providerList } from '../options.js';
import { refuseConflicts, type FlagRule } from '../conflicts.js';
import type { Command as CommanderCommand } from 'commander';

const RULES: FlagRule[] = [
  { given: ['memory', 'failIf'], when: (o) => o.memory === false && /\bpeak_memory_mb\b/.test(String(o.failIf)), message: '--fail-if reads peak_memory_mb, which --no-memory does not measure' },
];

interface BenchFlags {
  ep: ExecutionProvider[];
  threads: number;
  batch: number;
  runs?: number;
  warmup?: number;
  data?: string;
  memory: boolean;
  json?: boolean;
  minSpeedup?: number;
  failIf?: string;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time models side by side on this machine: latency, throughput, size, peak memory, per execution provider')
    .argument('<models...>', 'ONNX models; the first is the baseline for speedup and size ratio')
    .option('--ep <list>', 'execution providers, comma-separated (cpu, cuda, tensorrt, webgpu, dml, coreml, qnn)', providerList, ['cpu'] as ExecutionProvider[])
    .option('--threads <n>', 'intra-op threads', positiveInt('--threads'), 1)
    .option('--batch <n>', 'samples per run', positiveInt('--batch'), 1)
    .option('--runs <n>', 'timed runs per model, interleaved (default 50; fewer, after 1 warm-up, when 50 runs would take over 30 s)', positiveInt('--runs'))
    .option('--warmup <n>', 'warm-up runs per model (default 10; 1 when the runs are fewer)', positiveInt('--warmup'))
    .option('--data <file>', '.npz with real inputs (default: deterministic random inputs)')
    .option('--no-memory', 'skip the peak-memory probe (one short process per model)')
    .option('--json', 'print JSON (schema slimnet.bench/1, see docs/eval-json.md)')
    .option('--min-speedup <y>', 'fail (exit 10) when a model is less than y times faster than the first', positiveNumber('--min-speedup'))
    .option('--fail-if <expr>', 'fail (exit 10) when true for any model after the first, e.g. "speedup < 1.5 or size_ratio > 0.3"')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', VERBOSE_HELP)
    .addHelpText('after', examplesText([
      'slimnet bench fixtures/models/resnet_bn.onnx fixtures/models/requantize/resnet_bn_dyn.onnx --runs 10 --warmup 2',
      'slimnet bench fixtures/models/vit_tiny.onnx fixtures/models/requantize/vit_tiny_dyn.onnx --runs 10 --warmup 2 --no-memory --json',
    ]))
    .action(action(async (models: string[], flags: BenchFlags, command: CommanderCommand) => {
      refuseConflicts(command, RULES);
      if ((flags.minSpeedup !== undefined || flags.failIf !== undefined) && models.length < 2) {
        throw new OptionError('--min-speedup and --fail-if compare models with the first one: give at least two models');
      }
      if (flags.failIf !== undefined) await validateFailIf(flags.failIf, BENCH_VARIABLES);
      const result = await benchmark(models, {
        providers: flags.ep, threads: flags.threads, batch: flags.batch, ...(flags.runs !== undefined ? { runs: flags.runs } : {}), ...(flags.warmup !== undefined ? { warmup: flags.warmup } : {}), data: flags.data, memory: flags.memory, onProgress: terminalProgress(),
      });
      const gates: GateResult[] = [];
      if (flags.minSpeedup !== undefined || flags.failIf !== undefined) {
        for (const { label, scope } of benchGateScopes(result)) {
          for (const g of await checkGates({ minSpeedup: flags.minSpeedup, failIf: flags.failIf }, scope)) gates.push({ ...g, gate: `${g.gate} for ${label}` });
        }
      }
      const report = buildBenchReport(result, gates);
      if (flags.json) printJson(report);
      else print(formatBenchText(report));
      enforceGates(gates, 'benchmark');
    }));
}
