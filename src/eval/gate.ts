/**
 * Pipeline gates: `--max-drop`, `--min-speedup` and a free-form `--fail-if` expression decide
 * whether a candidate may go on. A missed gate makes the CLI exit with GateFailedError's code (10)
 * after printing its results. `--fail-if` is parsed with mathjs's expression parser (loaded only
 * when an expression is given): "drop > 0.5 or speedup < 1.5".
 */
import { GateFailedError, OptionError } from '../errors.js';

export interface GateSpec {
  /** Fail when the drop exceeds this: points (or metric units) as a number, or '1%' relative. */
  maxDrop?: string | number;
  minSpeedup?: number;
  failIf?: string;
}

export interface GateResult {
  gate: string;
  /** The condition that fails the gate, as evaluated. */
  failsWhen: string;
  passed: boolean;
  /** The values it read. */
  values: Record<string, number | null>;
}

/** A gate variable: its value in this run (undefined = not measured, with why). */
export interface GateVariable {
  value: number | null | undefined;
  description: string;
  /** Why the value is missing and how to get it. */
  missing?: string;
}

export type GateScope = Record<string, GateVariable>;

function need(scope: GateScope, name: string, flag: string): number {
  const v = scope[name];
  if (!v) throw new OptionError(`${flag} reads '${name}', which this command does not report`);
  if (v.value === undefined || v.value === null) throw new OptionError(`${flag} needs '${name}' (${v.description}), which this run did not measure${v.missing ? `: ${v.missing}` : ''}`);
  return v.value;
}

/** Parses --max-drop: '0.5' (points) or '1%' (relative to the reference score). */
export function parseMaxDrop(value: string | number): { relative: boolean; limit: number } {
  const s = String(value).trim();
  const relative = s.endsWith('%');
  const limit = Number(relative ? s.slice(0, -1) : s);
  if (!s || !Number.isFinite(limit) || limit < 0) throw new OptionError(`--max-drop must be a non-negative number of points (0.5) or a percentage (1%), got '${value}'`);
  return { relative, limit };
}

export async function checkGates(spec: GateSpec, scope: GateScope): Promise<GateResult[]> {
  const results: GateResult[] = [];
  if (spec.maxDrop !== undefined) {
    const { relative, limit } = parseMaxDrop(spec.maxDrop);
    const name = relative ? 'relative_drop' : 'drop';
    const v = need(scope, name, '--max-drop');
    results.push({ gate: `--max-drop ${spec.maxDrop}`, failsWhen: `${name} > ${limit}`, passed: !(v > limit), values: { [name]: v } });
  }
  if (spec.minSpeedup !== undefined) {
    if (!(Number.isFinite(spec.minSpeedup) && spec.minSpeedup > 0)) throw new OptionError(`--min-speedup must be a positive number, got '${spec.minSpeedup}'`);
    const v = need(scope, 'speedup', '--min-speedup');
    results.push({ gate: `--min-speedup ${spec.minSpeedup}`, failsWhen: `speedup < ${spec.minSpeedup}`, passed: !(v < spec.minSpeedup), values: { speedup: v } });
  }
  if (spec.failIf !== undefined) results.push(await evaluateFailIf(spec.failIf, scope));
  return results;
}

type MathNode = import('mathjs').MathNode;

async function parseExpression(expression: string): Promise<{ node: MathNode; used: Set<string> }> {
  const { parse } = await import('mathjs');
  let node: MathNode;
  try {
    node = parse(expression);
  } catch (err) {
    throw new OptionError(`--fail-if "${expression}" is not a valid expression: ${(err as Error).message}`);
  }
  const used = new Set<string>();
  node.traverse((n, path, parent) => {
    if ((n as { isSymbolNode?: boolean }).isSymbolNode && !((parent as { isFunctionNode?: boolean } | null)?.isFunctionNode && path === 'fn')) used.add((n as unknown as { name: string }).name);
  });
  return { node, used };
}

function unknownVariable(name: string, expression: string, known: string[], describe: (k: string) => string | undefined): OptionError {
  return new OptionError(`--fail-if: unknown variable '${name}' in "${expression}"; known: ${known.map((k) => { const d = describe(k); return d ? `${k} (${d})` : k; }).join(', ')}`);
}

/** Checks a --fail-if expression's syntax and variable names before any work starts. */
export async function validateFailIf(expression: string, known: string[], describe: (name: string) => string | undefined = () => undefined): Promise<void> {
  const { used } = await parseExpression(expression);
  for (const name of used) if (!known.includes(name)) throw unknownVariable(name, expression, known, describe);
}

/** Evaluates a --fail-if expression; unknown or unmeasured variables are errors that list the known ones. */
export async function evaluateFailIf(expression: string, scope: GateScope): Promise<GateResult> {
  const { node, used } = await parseExpression(expression);
  const known = Object.keys(scope);
  const values: Record<string, number> = {};
  for (const name of used) {
    if (!(name in scope)) throw unknownVariable(name, expression, known, (k) => scope[k]?.description);
    values[name] = need(scope, name, '--fail-if');
  }
  let result: unknown;
  try {
    result = node.compile().evaluate({ ...values });
  } catch (err) {
    throw new OptionError(`--fail-if "${expression}" could not be evaluated: ${(err as Error).message}`);
  }
  if (typeof result !== 'boolean' && typeof result !== 'number') {
    throw new OptionError(`--fail-if "${expression}" must give true or false (a comparison such as "drop > 0.5"), got ${String(result)}`);
  }
  return { gate: `--fail-if "${expression}"`, failsWhen: expression, passed: !result, values };
}

/** Throws GateFailedError naming every missed gate and the values it saw. */
export function enforceGates(results: GateResult[], subject: string): void {
  const failed = results.filter((r) => !r.passed);
  if (!failed.length) return;
  const detail = failed.map((r) => `${r.gate} (${Object.entries(r.values).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ')})`).join('; ');
  throw new GateFailedError(`${subject} missed ${failed.length === 1 ? 'a gate' : `${failed.length} gates`}: ${detail}`);
}

function fmt(v: number | null): string {
  if (v === null) return 'n/a';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
}
