import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { checkOutputs, type InputPath } from '../outputs.js';
import { refuseConflicts, type FlagRule } from '../conflicts.js';
import { compareModels } from '../../src/eval/compare-models.js';
import { loadMetricModule } from '../../src/eval/metric-module.js';
import { enforceGates, parseMaxDrop, validateFailIf, type GateSpec } from '../../src/eval/gate.js';
import { TASKS, type Task } from '../../src/eval/task-metrics.js';
import { formatEvalText } from '../../src/eval/report/text.js';
import { formatEvalMarkdown } from '../../src/eval/report/markdown.js';
import { formatEvalHtml } from '../../src/eval/report/html.js';
import { EVAL_VARIABLES, evalVariableNames, type EvalReport } from '../../src/eval/report/eval-report.js';
import { writeFileAtomic } from '../../src/onnx/atomic-write.js';
import { OptionError } from '../../src/errors.js';
import type { ExecutionProvider } from '../../src/runtime/types.js';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { note, print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { terminalProgress } from '../progress.js';
import { positiveInt, positiveNumber, providerList, reportFormat, type ReportFormat } from '../options.js';

interface EvalFlags {
  data: string;
  labels?: string;
  task: string;
  output?: string;
  metric?: string;
  limit?: number;
  batch?: number;
  json?: boolean;
  report?: string;
  layers?: boolean;
  speed: boolean;
  runs?: number;
  threads: number;
  ep: ExecutionProvider[];
  maxDrop?: string;
  minSpeedup?: number;
  failIf?: string;
}

const RULES: FlagRule[] = [
  { given: ['speed', 'runs'], when: (o) => o.speed === false, message: '--runs sets how many timed runs; --no-speed skips timing' },
  { given: ['speed', 'threads'], when: (o) => o.speed === false, message: '--threads applies to timing; --no-speed skips timing' },
  { given: ['speed', 'ep'], when: (o) => o.speed === false, message: '--ep chooses where the models are timed; --no-speed skips timing' },
];

function render(report: EvalReport, format: ReportFormat): string {
  switch (format) {
    case 'html': return formatEvalHtml(report);
    case 'md': return formatEvalMarkdown(report);
    case 'json': return `${JSON.stringify(report, null, 2)}\n`;
    default: return `${formatEvalText(report)}\n`;
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('compare a candidate model with its reference: accuracy drop, output agreement and SQNR, speed, per-layer blame, gates')
    .argument('<reference>', 'the original (FP32) ONNX model')
    .argument('<candidate>', 'the quantized or pruned ONNX model')
    .requiredOption('--data <file>', '.npz with one array per model input (first axis = samples) and optional labels')
    .option('--labels <key>', 'name of the labels array in the data (default: labels)')
    .option('--task <task>', `${TASKS.join(' | ')} | auto`, 'auto')
    .option('--output <name>', 'the output the task metric reads (default: the first)')
    .option('--metric <module>', 'a JS module whose default export scores outputs (detection, OCR, ...)')
    .option('--limit <n>', 'evaluate a fixed subset of n samples spread over the data', positiveInt('--limit'))
    .option('--batch <n>', 'samples per inference run (default 32)', positiveInt('--batch'))
    .option('--json', 'print the report as JSON (schema slimnet.eval/1, see docs/eval-json.md)')
    .option('--report <file>', 'also write the report: .html (with plots), .md, .json or .txt')
    .option('--layers', 'rank the layers to blame (QDQ candidates; on by default with --report)')
    .option('--no-layers', 'skip the per-layer analysis')
    .option('--no-speed', 'do not time the two models')
    .option('--runs <n>', 'timed runs per model (default 30 after 10 warm-up runs; fewer, after 1, when a run takes over a second: about 30 s per model)', positiveInt('--runs'))
    .option('--threads <n>', 'intra-op threads for timing', positiveInt('--threads'), 1)
    .option('--ep <list>', 'execution provider for timing', providerList, ['cpu'] as ExecutionProvider[])
    .option('--max-drop <x>', 'fail (exit 10) when the drop exceeds x points, or x% relative (e.g. 0.5 or 1%)')
    .option('--min-speedup <y>', 'fail (exit 10) when the candidate is less than y times faster', positiveNumber('--min-speedup'))
    .option('--fail-if <expr>', 'fail (exit 10) when this expression is true, e.g. "drop > 0.5 or speedup < 1.5"')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', VERBOSE_HELP)
    .addHelpText('after', examplesText([
      'slimnet eval fixtures/models/resnet_bn.onnx fixtures/models/requantize/resnet_bn_dyn.onnx --data fixtures/data/fmnist_test.npz --limit 200 --no-speed',
      'slimnet eval fixtures/models/vit_tiny.onnx fixtures/models/requantize/vit_tiny_dyn.onnx --data fixtures/data/fmnist_test.npz --limit 200 --runs 10 --max-drop 5 --report out/vit.eval.html',
    ]))
    .action(action(async (reference: string, candidate: string, flags: EvalFlags, command: Command) => {
      // Check everything that can be checked before the long work starts.
      refuseConflicts(command, RULES);
      if (flags.report) {
        const inputs: InputPath[] = [
          { what: 'the reference model', path: reference },
          { what: 'the candidate model', path: candidate },
          { what: 'the data (--data)', path: flags.data },
        ];
        if (flags.metric && existsSync(flags.metric)) inputs.push({ what: 'the --metric module', path: flags.metric });
        checkOutputs([{ flag: '--report', path: flags.report }], inputs);
      }
      const task = flags.task as Task | 'auto';
      if (task !== 'auto' && !TASKS.includes(task)) throw new OptionError(`--task must be one of ${TASKS.join(', ')} or auto, got '${flags.task}'`);
      const format = flags.report ? reportFormat(flags.report) : undefined;
      if (flags.maxDrop !== undefined) parseMaxDrop(flags.maxDrop);
      if (flags.ep.length > 1) throw new OptionError('slimnet eval times on one execution provider; use slimnet bench --ep a,b to compare providers');
      const gates: GateSpec = { maxDrop: flags.maxDrop, minSpeedup: flags.minSpeedup, failIf: flags.failIf };
      const wantsSpeed = flags.minSpeedup !== undefined || /\b(speedup|latency_ms)\b/.test(flags.failIf ?? '');
      if (!flags.speed && wantsSpeed) throw new OptionError('--no-speed cannot be combined with a speed gate (--min-speedup, or speedup/latency_ms in --fail-if)');
      const metrics = flags.metric ? [await loadMetricModule(flags.metric)] : [];
      if (flags.failIf !== undefined) {
        await validateFailIf(flags.failIf, evalVariableNames(metrics.map((m) => m.name)), (n) => EVAL_VARIABLES[n as keyof typeof EVAL_VARIABLES]);
      }
      const layers = flags.layers ?? (format !== undefined ? 'auto' : false);
      const report = await compareModels(reference, candidate, flags.data, {
        task, labels: flags.labels, output: flags.output, metrics, limit: flags.limit, batchSize: flags.batch,
        speed: flags.speed ? { provider: flags.ep[0], threads: flags.threads, runs: flags.runs } : false,
        layers,
        onProgress: terminalProgress(),
        gates: flags.maxDrop !== undefined || flags.minSpeedup !== undefined || flags.failIf !== undefined ? gates : undefined,
      });
      if (flags.json) printJson(report);
      else print(formatEvalText(report));
      if (flags.report && format) {
        writeFileAtomic(flags.report, render(report, format));
        note(`report written to ${flags.report}`);
      }
      enforceGates(report.gates, candidate);
    }));
}
