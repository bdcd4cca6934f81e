/**
 * Pipeline gates: `--max-drop`, `--min-speedup` and a free-form `--fail-if` expression decide
 * whether a candidate may go on. A missed gate makes the CLI exit with GateFailedError's code (10)
 * after printing its results. `--fail-if` is parsed with mathjs's expression parser (loaded only
 * when an expression is given): "drop > 0.5 or speedup < 1.5".
 *
 * Gates fail closed: a gate that cannot be evaluated (the candidate did not load, the speed was not
 * measured, the expression fails on these values) is a failed gate whose `reason` says why, never
 * a pass. Names that no run could provide are refused before any work (validateFailIf).
 */
import { GateFailedError, OptionError } from '../errors.js';
import { num } from './report/format.js';

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
  /** Set when the gate could not be evaluated (it then fails): why, and how to get the value. */
  reason?: string;
}

/** A gate variable: its value in this run (undefined = not measured, with why). */
export interface GateVariable {
  value: number | null | undefined;
  description: string;
  /** Why the value is missing and how to get it. */
  missing?: string;
}

export type GateScope = Record<string, GateVariable>;

/** A gate that could not be evaluated: failed, with the reason. */
class Unevaluable extends Error {}

function need(scope: GateScope, name: string, flag: string): number {
  const v = scope[name];
  if (!v) throw new OptionError(`${flag} reads '${name}', which this command does not report`);
  if (v.value === undefined || v.value === null || Number.isNaN(v.value)) throw new Unevaluable(`${flag} needs '${name}' (${v.description}), which this run did not measure${v.missing ? `: ${v.missing}` : ''}`);
  return v.value;
}

function unevaluated(gate: string, failsWhen: string, err: unknown): GateResult {
  if (!(err instanceof Unevaluable)) throw err;
  return { gate, failsWhen, passed: false, values: {}, reason: err.message };
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
    const gate = `--max-drop ${spec.maxDrop}`;
    try {
      const v = need(scope, name, '--max-drop');
      results.push({ gate, failsWhen: `${name} > ${limit}`, passed: !(v > limit), values: { [name]: v } });
    } catch (err) {
      results.push(unevaluated(gate, `${name} > ${limit}`, err));
    }
  }
  if (spec.minSpeedup !== undefined) {
    if (!(Number.isFinite(spec.minSpeedup) && spec.minSpeedup > 0)) throw new OptionError(`--min-speedup must be a positive number, got '${spec.minSpeedup}'`);
    const gate = `--min-speedup ${spec.minSpeedup}`;
    try {
      const v = need(scope, 'speedup', '--min-speedup');
      results.push({ gate, failsWhen: `speedup < ${spec.minSpeedup}`, passed: !(v < spec.minSpeedup), values: { speedup: v } });
    } catch (err) {
      results.push(unevaluated(gate, `speedup < ${spec.minSpeedup}`, err));
    }
  }
  if (spec.failIf !== undefined) results.push(await evaluateFailIf(spec.failIf, scope));
  return results;
}

type MathNode = import('mathjs').MathNode;

/** mathjs's message, first line only (some quote values or code on the following lines). */
function mathMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

/** Functions an expression may call; everything else in mathjs (assignment, import, matrices) is refused. */
const FUNCTIONS = new Set(['abs', 'min', 'max', 'log', 'log10', 'sqrt', 'exp', 'round', 'floor', 'ceil']);
const SHAPE_HELP = 'use numbers, the variables, comparisons (< <= > >= == !=), and / or / not, arithmetic and abs, min, max, log, sqrt';

/**
 * The expression is a condition over numbers: no assignments ("drop = 3" would be true), function
 * definitions, strings, matrices, property access or blocks. Checked on the parse tree, so that
 * evaluating it can only compute, and its result is printed as true or false, never as code.
 */
function checkShape(node: MathNode, expression: string): void {
  node.traverse((n, path, parent) => {
    const t = (n as { type: string }).type;
    const isCallee = (parent as { type?: string } | null)?.type === 'FunctionNode' && path === 'fn';
    const ok =
      t === 'OperatorNode' || t === 'ParenthesisNode' || t === 'ConditionalNode' || t === 'SymbolNode' ||
      (t === 'ConstantNode' && ['number', 'boolean'].includes(typeof (n as unknown as { value: unknown }).value)) ||
      (t === 'FunctionNode' && FUNCTIONS.has(((n as unknown as { fn: { name?: string } }).fn.name) ?? ''));
    if (!ok && !isCallee) {
      const what = t === 'FunctionNode' ? `the function ${(n as unknown as { fn: { name?: string } }).fn.name ?? '?'}` : t === 'AssignmentNode' ? "an assignment ('=' assigns; compare with '==')" : `'${n.toString().replace(/\s+/g, ' ')}'`;
      throw new OptionError(`--fail-if "${expression}": ${what} is not allowed; ${SHAPE_HELP}`);
    }
  });
}

async function parseExpression(expression: string): Promise<{ node: MathNode; used: Set<string> }> {
  // A gate is a condition of a few terms; mathjs parses and walks it recursively (a 15 KB chain
  // of '+' overflowed the stack).
  if (expression.length > MAX_EXPRESSION) {
    throw new OptionError(`--fail-if: the expression is ${expression.length} characters long; a gate is a condition of a few terms (at most ${MAX_EXPRESSION} characters), such as "drop > 0.5 or speedup < 1.5"`);
  }
  const { parse } = await import('mathjs');
  let node: MathNode;
  try {
    node = parse(expression);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep(expression);
    throw new OptionError(`--fail-if "${expression}" is not a valid expression: ${mathMessage(err)}; write a condition such as "drop > 0.5 or speedup < 1.5"`);
  }
  const used = new Set<string>();
  try {
    checkShape(node, expression);
    node.traverse((n, path, parent) => {
      if ((n as { isSymbolNode?: boolean }).isSymbolNode && !((parent as { isFunctionNode?: boolean } | null)?.isFunctionNode && path === 'fn')) used.add((n as unknown as { name: string }).name);
    });
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep(expression);
    throw err;
  }
  return { node, used };
}

const tooDeep = (expression: string) => new OptionError(`--fail-if "${expression}": nested too deeply; a gate is a condition of a few terms`);

/** Longest --fail-if expression accepted. */
const MAX_EXPRESSION = 1000;

function unknownVariable(name: string, expression: string, known: string[], describe: (k: string) => string | undefined): OptionError {
  return new OptionError(`--fail-if: unknown variable '${name}' in "${expression}"; known: ${known.map((k) => { const d = describe(k); return d ? `${k} (${d})` : k; }).join(', ')}`);
}

/** Checks a --fail-if expression's syntax and variable names before any work starts. */
export async function validateFailIf(expression: string, known: string[], describe: (name: string) => string | undefined = () => undefined): Promise<void> {
  const { used } = await parseExpression(expression);
  for (const name of used) if (!known.includes(name)) throw unknownVariable(name, expression, known, describe);
}

/**
 * Evaluates a --fail-if expression. Unknown variables are errors that list the known ones; a
 * variable this run did not measure, or an expression that does not give true or false, fails the
 * gate with the reason.
 */
export async function evaluateFailIf(expression: string, scope: GateScope): Promise<GateResult> {
  const { node, used } = await parseExpression(expression);
  const known = Object.keys(scope);
  const gate = `--fail-if "${expression}"`;
  const values: Record<string, number> = {};
  try {
    for (const name of used) {
      if (!(name in scope)) throw unknownVariable(name, expression, known, (k) => scope[k]?.description);
      values[name] = need(scope, name, '--fail-if');
    }
    let result: unknown;
    try {
      result = node.compile().evaluate({ ...values });
    } catch (err) {
      throw new Unevaluable(`--fail-if "${expression}" could not be evaluated: ${mathMessage(err)}`);
    }
    if (typeof result !== 'boolean' && (typeof result !== 'number' || Number.isNaN(result))) {
      throw new Unevaluable(`--fail-if "${expression}" must give true or false (a comparison such as "drop > 0.5")`);
    }
    return { gate, failsWhen: expression, passed: !result, values };
  } catch (err) {
    return { ...unevaluated(gate, expression, err), values };
  }
}

/** What a gate read, or why it could not be evaluated, for reports: "(drop = 0.05)". */
export function gateDetail(g: GateResult): string {
  if (g.reason) return `(could not be evaluated: ${g.reason})`;
  return `(${Object.entries(g.values).map(([k, v]) => `${k} = ${num(v)}`).join(', ')})`;
}

/** Throws GateFailedError naming every missed gate and the values it saw. */
export function enforceGates(results: GateResult[], subject: string): void {
  const failed = results.filter((r) => !r.passed);
  if (!failed.length) return;
  const detail = failed.map((r) => `${r.gate} ${gateDetail(r)}`).join('; ');
  throw new GateFailedError(`${subject} missed ${failed.length === 1 ? 'a gate' : `${failed.length} gates`}: ${detail}`);
}
