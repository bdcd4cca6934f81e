/**
 * Runs a pipeline file's steps on the core API, in order: quantize writes a model that the
 * following steps read; eval checks gates (a missed gate stops the pipeline, exit 10); bench times.
 * Every output is checked before the first step starts, and each model is written atomically.
 */
import { modelSizeBytes } from '../src/eval/hash.js';
import { loadModel, stageModel } from '../src/onnx/io.js';
import { checkRuntimeSupport } from '../src/runtime/ort-support.js';
import { quantize, type QuantizeOptions } from '../src/quantize/quantize.js';
import type { StaticQuantizeResult } from '../src/quantize/static/quantize-static.js';
import type { QuantizeMode } from '../src/quantize/types.js';
import { readRecipe, replayOptions } from '../src/recipe/quantize-recipe.js';
import { compareModels } from '../src/eval/compare-models.js';
import { benchmark } from '../src/eval/benchmark.js';
import { enforceGates, validateFailIf, type GateSpec } from '../src/eval/gate.js';
import { EVAL_VARIABLES, evalVariableNames } from '../src/eval/report/eval-report.js';
import { abortAll, commitAll } from '../src/onnx/atomic-write.js';
import { OptionError } from '../src/errors.js';
import { kib } from '../src/quantize/report.js';
import type { ProgressListener } from '../src/progress.js';
import type { Pipeline, PipelineStep } from '../src/recipe/pipeline/schema.js';
import { MODE_FLAGS } from './commands/quantize-modes.js';
import { checkOutputs, type InputPath, type OutputPath } from './outputs.js';

export interface StepReport {
  step: string;
  lines: string[];
}

/** Exit code of a quantize step whose accuracy budget was missed (as slimnet quantize). */
export const EXIT_BUDGET_MISSED = 11;

const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Everything that can be checked before work: keys per mode, recipes, gates, candidates, outputs. */
export async function checkPipeline(p: Pipeline): Promise<void> {
  const outputs: OutputPath[] = [];
  const inputs: InputPath[] = [{ what: 'the pipeline model', path: p.model }];
  let wrote = false;
  for (const s of p.steps) {
    const o = s.options;
    if (s.kind === 'quantize') {
      const mode = (o['mode'] ?? 'static') as QuantizeMode;
      for (const key of s.keys) {
        if (!MODE_FLAGS[mode].includes(camel(key))) throw new OptionError(`${s.keyWhere[key]}: not used by mode ${mode}${mode === 'static' ? ' (add mode: ...)' : ''}`);
      }
      if (o['recipe'] !== undefined) {
        const extra = s.keys.filter((k) => !['recipe', 'output', 'mode'].includes(k));
        if (extra.length) throw new OptionError(`${s.keyWhere[extra[0]!]}: a recipe holds the options already; give only recipe and output`);
        readRecipe(o['recipe'] as string);
        inputs.push({ what: `the recipe of ${s.where}`, path: o['recipe'] as string });
      } else if (mode === 'static' && o['calibration'] === undefined) {
        throw new OptionError(`${s.where}: static quantization needs calib (calibration data) or recipe`);
      }
      for (const k of ['calibration', 'evalData'] as const) if (typeof o[k] === 'string') inputs.push({ what: `the data of ${s.where}`, path: o[k] });
      outputs.push({ flag: `${s.where}.output`, path: o['output'] as string });
      wrote = true;
    } else if (s.kind === 'eval') {
      if (!wrote && o['candidate'] === undefined) throw new OptionError(`${s.where}: nothing to evaluate yet: put it after a quantize step, or give candidate`);
      if (o['failIf'] !== undefined) await validateFailIf(o['failIf'] as string, evalVariableNames([]), (n) => EVAL_VARIABLES[n as keyof typeof EVAL_VARIABLES]);
      inputs.push({ what: `the data of ${s.where}`, path: o['data'] as string });
    }
  }
  checkOutputs(outputs, inputs);
}

async function quantizeStep(s: PipelineStep, current: string, onProgress: ProgressListener | undefined): Promise<{ output: string; lines: string[]; budgetMissed: boolean }> {
  const { output, recipe, ...rest } = s.options as Record<string, unknown> & { output: string; recipe?: string };
  const model = loadModel(current);
  checkRuntimeSupport(model, current);
  // Measured before saving: the output may replace external data files the input reads.
  const before = modelSizeBytes(model, current);
  const options = (recipe !== undefined ? replayOptions(readRecipe(recipe)) : rest) as QuantizeOptions;
  const result = await quantize(model, { ...options, ...(onProgress ? { onProgress } : {}) } as never);
  const staged = stageModel(result.model, output);
  try {
    commitAll([staged]);
  } catch (err) {
    abortAll([staged]);
    throw err;
  }
  const after = staged.result.bytes + (staged.result.externalDataBytes ?? 0);
  const budget = (result as Partial<StaticQuantizeResult>).budget;
  const lines = [
    `${result.summary.mode}${recipe ? ' (recipe replayed)' : ''}: ${result.summary.quantized.length} nodes quantized, ${result.summary.skipped.length} left in float`,
    `${output}: ${kib(before)} -> ${kib(after)} (${(after / before).toFixed(2)}x)`,
  ];
  if (budget) lines.push(`accuracy budget: ${budget.verdict}`);
  return { output, lines, budgetMissed: budget !== undefined && budget.stop !== 'budget met' };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

/** Runs the steps; `report` receives each step's lines as it ends. Returns the exit code. */
export async function runPipeline(p: Pipeline, report: (r: StepReport) => void, onProgress?: ProgressListener): Promise<number> {
  let current = p.model;
  for (const s of p.steps) {
    const o = s.options;
    if (s.kind === 'quantize') {
      const q = await quantizeStep(s, current, onProgress);
      current = q.output;
      report({ step: s.where, lines: q.lines });
      if (q.budgetMissed) return EXIT_BUDGET_MISSED;
    } else if (s.kind === 'eval') {
      const candidate = (o['candidate'] as string | undefined) ?? current;
      const gates: GateSpec = {};
      if (o['maxDrop'] !== undefined) gates.maxDrop = o['maxDrop'] as number | string;
      if (o['minSpeedup'] !== undefined) gates.minSpeedup = o['minSpeedup'] as number;
      if (o['failIf'] !== undefined) gates.failIf = o['failIf'] as string;
      const r = await compareModels((o['reference'] as string | undefined) ?? p.model, candidate, o['data'] as string, {
        ...(o['limit'] !== undefined ? { limit: o['limit'] as number } : {}),
        speed: { runs: (o['runs'] as number | undefined) ?? 30 },
        ...(Object.keys(gates).length ? { gates } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      const lines = [`${r.metric ?? 'agreement'}: drop ${pct(r.drop)}, agreement ${pct(r.agreement)}, SQNR ${pct(r.sqnr)} dB, speedup ${r.speed ? `${r.speed.speedup.toFixed(2)}x` : 'n/a'}, size ${r.sizeRatio.toFixed(2)}x`];
      for (const g of r.gates) lines.push(`gate ${g.gate}: ${g.passed ? 'passed' : 'MISSED'}`);
      report({ step: s.where, lines });
      enforceGates(r.gates, candidate);
    } else {
      const models = (o['models'] as string[] | undefined) ?? (current === p.model ? [p.model] : [p.model, current]);
      const b = await benchmark(models, {
        memory: false,
        ...(o['runs'] !== undefined ? { runs: o['runs'] as number } : {}),
        ...(o['warmup'] !== undefined ? { warmup: o['warmup'] as number } : {}),
        ...(o['batch'] !== undefined ? { batch: o['batch'] as number } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      report({ step: s.where, lines: b.rows.map((row) => `${row.model}: ${row.latency ? `p50 ${row.latency.medianMs.toFixed(3)} ms` : row.reason ?? 'not run'}${row.speedup !== undefined ? `, ${row.speedup.toFixed(2)}x` : ''}, size ${row.sizeRatio.toFixed(2)}x`) });
    }
  }
  return 0;
}
