/**
 * Reads a pipeline file (YAML, or JSON, which YAML reads too) and checks it against schema.ts.
 * Errors are one line: the file, the line, the key, what is wrong and what would be right.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Document } from 'yaml';
import { OptionError } from '../../errors.js';
import { PIPELINE_SCHEMA, STEP_KEYS, STEP_KINDS, camel, type KeySpec, type Pipeline, type PipelineStep, type StepKind } from './schema.js';

type Path = (string | number)[];

class Checker {
  constructor(readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  /** The line of the key (or item) at `path`, else of its nearest parent. */
  line(path: Path): number {
    for (let p = path; p.length; p = p.slice(0, -1)) {
      const parent = p.length > 1 ? this.doc.getIn(p.slice(0, -1), true) : this.doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((i) => (i.key as { value?: unknown } | null)?.value === p[p.length - 1]);
        const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (range) return this.lines.linePos(range[0]).line;
      }
      const node = this.doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.lines.linePos(node.range[0]).line;
    }
    return 1;
  }

  fail(path: Path, what: string): never {
    const key = path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
    throw new OptionError(`${this.file}:${this.line(path)}: ${key ? `${key} ` : ''}${what}`);
  }
}

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function value(c: Checker, path: Path, spec: KeySpec, v: unknown, dir: string): unknown {
  const k = spec.kind;
  const expect = (ok: boolean, what: string) => { if (!ok) c.fail(path, `must be ${what} (got ${show(v)})`); };
  if (typeof k === 'object') {
    expect(typeof v === 'string' && k.enum.includes(v), `one of ${k.enum.join(', ')}`);
    return v;
  }
  switch (k) {
    case 'string': expect(typeof v === 'string' && v !== '', 'a string'); return v;
    case 'path': expect(typeof v === 'string' && v !== '', 'a path'); return resolve(dir, v as string);
    case 'number': expect(typeof v === 'number' && Number.isFinite(v), 'a number'); return v;
    case 'integer': expect(Number.isInteger(v) && (v as number) > 0, 'a positive integer'); return v;
    case 'boolean': expect(typeof v === 'boolean', 'true or false'); return v;
    case 'fraction': {
      const f = typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v) ? Number(v.slice(0, -1)) / 100 : v;
      expect(typeof f === 'number' && f >= 0 && f < 1, 'a fraction in [0, 1) such as 0.5, or a percentage such as "50%"');
      return f;
    }
    case 'drop': expect((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v)), 'a number of points or a percentage such as "1%"'); return v;
    case 'strings':
    case 'paths': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
      expect(Array.isArray(list) && list.length > 0 && list.every((s) => typeof s === 'string' && s !== ''), 'a list of strings');
      return k === 'paths' ? (list as string[]).map((p) => resolve(dir, p)) : list;
    }
  }
}

function parsed(c: Checker, path: Path, parse: (v: string[]) => unknown, v: string[]): unknown {
  try {
    return parse(v);
  } catch (err) {
    if (err instanceof OptionError) c.fail(path, err.message);
    throw err;
  }
}

function step(c: Checker, i: number, raw: unknown, dir: string): PipelineStep {
  const at: Path = ['steps', i];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) c.fail(at, `must be one of ${STEP_KINDS.map((k) => `{ ${k}: ... }`).join(', ')}`);
  const keys = Object.keys(raw as object);
  if (keys.length !== 1 || !STEP_KINDS.includes(keys[0] as StepKind)) c.fail(at, `must have exactly one key, the step: ${STEP_KINDS.join(', ')} (got ${keys.join(', ') || 'none'})`);
  const kind = keys[0] as StepKind;
  const body = (raw as Record<string, unknown>)[kind] ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) c.fail([...at, kind], 'must be a map of options');
  const specs: Record<string, KeySpec> = STEP_KEYS[kind];
  const options: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(body as Record<string, unknown>)) {
    // Own keys only: 'constructor' or 'toString' would otherwise find Object.prototype's.
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) c.fail([...at, kind, key], `is not a ${kind} option (${Object.keys(specs).join(', ')})`);
    const checked = value(c, [...at, kind, key], spec, v, dir);
    options[spec.api ?? camel(key)] = spec.parse ? parsed(c, [...at, kind, key], spec.parse, checked as string[]) : checked;
  }
  for (const [key, spec] of Object.entries(specs)) if (spec.required && !(key in (body as object))) c.fail([...at, kind], `needs '${key}': ${spec.help}`);
  const written = Object.keys(body as object);
  const keyWhere = Object.fromEntries(written.map((k) => [k, `${c.file}:${c.line([...at, kind, k])}: steps[${i}].${kind}.${k}`]));
  return { kind, where: `${c.file}:${c.line(at)}: steps[${i}].${kind}`, keys: written, keyWhere, options };
}

export function parsePipeline(text: string, file: string): Pipeline {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new OptionError(`${file}:${lines.linePos(e.pos[0]).line}: not valid YAML or JSON (${e.message.split('\n')[0]})`);
  }
  const c = new Checker(file, doc, lines);
  let root: unknown;
  try {
    // Aliases resolve here: an undefined one, or too many (a "billion laughs" file), throw.
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new OptionError(`${file}: not a pipeline slimnet can read (${(err as Error).message.split('\n')[0]}); write each value out, or use fewer YAML aliases`);
  }
  if (!root || typeof root !== 'object' || Array.isArray(root)) c.fail([], `must be a map with model and steps (schema ${PIPELINE_SCHEMA})`);
  const r = root as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!['schema', 'model', 'steps', 'save-recipe'].includes(key)) c.fail([key], 'is not a pipeline key (schema, model, steps, save-recipe)');
  if (r['save-recipe'] !== undefined && (typeof r['save-recipe'] !== 'string' || !r['save-recipe'])) c.fail(['save-recipe'], `must be the path of the recipe to write (got ${show(r['save-recipe'])})`);
  if (r['schema'] !== undefined && r['schema'] !== PIPELINE_SCHEMA) c.fail(['schema'], `must be '${PIPELINE_SCHEMA}' (got ${show(r['schema'])})`);
  if (typeof r['model'] !== 'string' || !r['model']) c.fail(['model'], `must be the path of the ONNX model (got ${show(r['model'])})`);
  const steps = r['steps'];
  if (!Array.isArray(steps) || steps.length === 0) c.fail(['steps'], `must be a list of one or more steps (${STEP_KINDS.join(', ')})`);
  if (!isSeq(doc.get('steps', true))) c.fail(['steps'], 'must be a list');
  const dir = dirname(resolve(file));
  const saveRecipe = r['save-recipe'] !== undefined ? { saveRecipe: resolve(dir, r['save-recipe'] as string) } : {};
  return { file, model: resolve(dir, r['model'] as string), steps: (steps as unknown[]).map((s, i) => step(c, i, s, dir)), ...saveRecipe };
}

export function readPipeline(file: string): Pipeline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OptionError(`${file}: cannot read the pipeline (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parsePipeline(text, file);
}
