/**
 * Runs a pipeline file's steps on the core API, in order: prune and quantize write a model that
 * the following steps read; eval checks gates (a missed gate stops the pipeline, exit 10); bench
 * times. Every output is checked before the first step starts, and each model is written atomically.
 */
import { compareModels } from '../src/eval/compare-models.js';
import { benchmark } from '../src/eval/benchmark.js';
import { enforceGates, validateFailIf, type GateResult, type GateSpec } from '../src/eval/gate.js';
import { EVAL_VARIABLES, evalVariableNames } from '../src/eval/report/eval-report.js';
import { OptionError } from '../src/errors.js';
import { resolvePruneOptions } from '../src/prune/options.js';
import { readRecipe, onlyStep } from '../src/recipe/recipe.js';
import { lockPathFor } from '../src/recipe/lock.js';
import type { QuantizeMode } from '../src/quantize/types.js';
import type { Pipeline, PipelineStep, StepKind } from '../src/recipe/pipeline/schema.js';
import { MODE_FLAGS } from './commands/quantize-modes.js';
import { checkOutputs, type InputPath, type OutputPath, recipeInputs } from './outputs.js';
import { runPruneStep, runQuantizeStep, type ModelStepResult, type StepContext } from './pipeline-steps.js';
import { recipeFiles } from '../src/recipe/replay.js';
import { loadModel } from '../src/onnx/io.js';
import { commitWith } from '../src/onnx/atomic-write.js';

export interface StepReport {
  /** Where the step is: `pipeline.yaml:4: steps[0].quantize`. */
  step: string;
  kind: StepKind;
  lines: string[];
  /** The model the step wrote. */
  output?: string;
  gates?: { gate: string; passed: boolean }[];
  result?: Record<string, unknown>;
}

/** Exit code of a step whose accuracy budget was missed (as slimnet quantize and prune). */
export const EXIT_BUDGET_MISSED = 11;

const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A step that replays a recipe takes only recipe, output, save-recipe and calib (its data, if it reads any). */
function checkRecipeStep(s: PipelineStep, kind: 'quantize' | 'prune', inputs: InputPath[]): void {
  const extra = s.keys.filter((k) => !['recipe', 'output', 'mode', 'save-recipe', 'calib'].includes(k));
  if (extra.length) throw new OptionError(`${s.keyWhere[extra[0]!]}: a recipe holds the options already; give only recipe and output (and calib for a step that reads data)`);
  const path = s.options['recipe'] as string;
  onlyStep(readRecipe(path), path, kind);
  inputs.push(...recipeInputs(path, `the recipe of ${s.where}`));
}

/** Everything that can be checked before work: keys per mode, prune options, recipes, gates, candidates, outputs. */
export async function checkPipeline(p: Pipeline): Promise<void> {
  const outputs: OutputPath[] = [];
  const inputs: InputPath[] = [{ what: 'the pipeline model', path: p.model }];
  let wrote = false;
  for (const s of p.steps) {
    const o = s.options;
    if (s.kind === 'quantize' || s.kind === 'prune') {
      if (s.kind === 'quantize') {
        const mode = (o['mode'] ?? 'static') as QuantizeMode;
        for (const key of s.keys) {
          if (!MODE_FLAGS[mode].includes(camel(key))) throw new OptionError(`${s.keyWhere[key]}: not used by mode ${mode}${mode === 'static' ? ' (add mode: ...)' : ''}`);
        }
      }
      if (o['recipe'] !== undefined) checkRecipeStep(s, s.kind, inputs);
      else if (s.kind === 'quantize' && (o['mode'] ?? 'static') === 'static' && o['calibration'] === undefined) throw new OptionError(`${s.where}: static quantization needs calib (calibration data) or recipe`);
      else if (s.kind === 'prune') {
        const { output: _o, saveRecipe: _s, ...rest } = o;
        try {
          resolvePruneOptions(rest);
        } catch (err) {
          throw new OptionError(`${s.where}: ${(err as Error).message.replace(/--([a-z-]+)/g, '$1')}`);
        }
      }
      for (const k of ['calibration', 'evalData'] as const) if (typeof o[k] === 'string') inputs.push({ what: `the data of ${s.where}`, path: o[k] });
      outputs.push({ flag: `${s.where}.output`, path: o['output'] as string });
      if (typeof o['saveRecipe'] === 'string') outputs.push({ flag: `${s.where}.save-recipe`, path: o['saveRecipe'] }, { flag: `${s.where}.save-recipe (its lock)`, path: lockPathFor(o['saveRecipe']) });
      wrote = true;
    } else if (s.kind === 'eval') {
      if (!wrote && o['candidate'] === undefined) throw new OptionError(`${s.where}: nothing to evaluate yet: put it after a quantize or prune step, or give candidate`);
      if (o['failIf'] !== undefined) await validateFailIf(o['failIf'] as string, evalVariableNames([]), (n) => EVAL_VARIABLES[n as keyof typeof EVAL_VARIABLES]);
      inputs.push({ what: `the data of ${s.where}`, path: o['data'] as string });
    }
  }
  if (p.saveRecipe !== undefined) {
    if (!wrote) throw new OptionError(`${p.file}: save-recipe records the prune and quantize steps, and this pipeline has none`);
    outputs.push({ flag: `${p.file}: save-recipe`, path: p.saveRecipe }, { flag: `${p.file}: save-recipe (its lock)`, path: lockPathFor(p.saveRecipe) });
  }
  checkOutputs(outputs, inputs);
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

async function evalStep(s: PipelineStep, p: Pipeline, current: string, ctx: StepContext): Promise<{ report: StepReport; candidate: string; gates: GateResult[] }> {
  const o = s.options;
  const candidate = (o['candidate'] as string | undefined) ?? current;
  const gates: GateSpec = {};
  if (o['maxDrop'] !== undefined) gates.maxDrop = o['maxDrop'] as number | string;
  if (o['minSpeedup'] !== undefined) gates.minSpeedup = o['minSpeedup'] as number;
  if (o['failIf'] !== undefined) gates.failIf = o['failIf'] as string;
  const r = await compareModels((o['reference'] as string | undefined) ?? p.model, candidate, o['data'] as string, {
    ...(o['limit'] !== undefined ? { limit: o['limit'] as number } : {}),
    speed: { runs: (o['runs'] as number | undefined) ?? 30 },
    ...(Object.keys(gates).length ? { gates } : {}),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  });
  const lines = [`${r.metric ?? 'agreement'}: drop ${pct(r.drop)}, agreement ${pct(r.agreement)}, SQNR ${pct(r.sqnr)} dB, speedup ${r.speed ? `${r.speed.speedup.toFixed(2)}x` : 'n/a'}, size ${r.sizeRatio.toFixed(2)}x`];
  for (const g of r.gates) lines.push(`gate ${g.gate}: ${g.passed ? 'passed' : 'MISSED'}`);
  const report: StepReport = {
    step: s.where, kind: 'eval', lines, gates: r.gates.map((g) => ({ gate: g.gate, passed: g.passed })),
    result: { metric: r.metric ?? 'agreement', drop: r.drop, agreement: r.agreement, sqnr: r.sqnr, speedup: r.speed?.speedup ?? null, sizeRatio: r.sizeRatio },
  };
  return { report, candidate, gates: r.gates };
}

/** Runs the steps; `report` receives each step as it ends. Returns the exit code (a missed gate throws, exit 10). */
export async function runPipeline(p: Pipeline, report: (r: StepReport) => void, ctx: StepContext): Promise<number> {
  let current = p.model;
  const made: ModelStepResult[] = [];
  for (const s of p.steps) {
    const o = s.options;
    if (s.kind === 'quantize' || s.kind === 'prune') {
      const q = await (s.kind === 'quantize' ? runQuantizeStep : runPruneStep)(s, current, ctx);
      current = q.output;
      made.push(q);
      report({ step: s.where, kind: s.kind, lines: q.lines, output: q.output, result: q.result });
      if (q.budgetMissed) return EXIT_BUDGET_MISSED;
    } else if (s.kind === 'eval') {
      const e = await evalStep(s, p, current, ctx);
      report(e.report);
      enforceGates(e.gates, e.candidate);
    } else {
      const models = (o['models'] as string[] | undefined) ?? (current === p.model ? [p.model] : [p.model, current]);
      const b = await benchmark(models, {
        memory: false,
        ...(o['runs'] !== undefined ? { runs: o['runs'] as number } : {}),
        ...(o['warmup'] !== undefined ? { warmup: o['warmup'] as number } : {}),
        ...(o['batch'] !== undefined ? { batch: o['batch'] as number } : {}),
        ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      });
      report({
        step: s.where, kind: 'bench',
        lines: b.rows.map((row) => `${row.model}: ${row.latency ? `p50 ${row.latency.medianMs.toFixed(3)} ms` : row.reason ?? 'not run'}${row.speedup !== undefined ? `, ${row.speedup.toFixed(2)}x` : ''}, size ${row.sizeRatio.toFixed(2)}x`),
        result: { models: b.rows.map((row) => ({ model: row.model, p50Ms: row.latency?.medianMs ?? null, speedup: row.speedup ?? null, sizeRatio: row.sizeRatio })) },
      });
    }
  }
  if (p.saveRecipe !== undefined) writePipelineRecipe(p.saveRecipe, p.model, current, made);
  return 0;
}

/**
 * The recipe of every model step, in order, and one lock: the pipeline's model, the last model
 * written, and each step's data under `steps[i].role` (i counts the model steps, as in the recipe).
 * Written only when every step and gate passed.
 */
function writePipelineRecipe(path: string, model: string, last: string, made: ModelStepResult[]): void {
  const data: Record<string, unknown> = {};
  made.forEach((m, i) => { for (const [role, file] of Object.entries(m.data)) if (file !== undefined) data[`steps[${i}].${role}`] = file; });
  commitWith([], recipeFiles(path, made.map((m) => m.recipeStep(path)), { model: loadModel(model), output: loadModel(last), data }));
}
