/** Checks one step of a recipe read from a file, naming the key that is wrong (`steps[0].prune.plan.layers`). */
import { checkDecisions } from '../quantize/static/decisions.js';
import { QUANTIZE_MODES } from '../quantize/quantize.js';
import { DYNAMIC_KEYS, FP16_KEYS, PRUNE_KEYS, STATIC_KEYS, WEIGHT_ONLY_KEYS } from './keys.js';

type Fail = (key: string, what: string) => never;

const KEYS: Record<string, readonly string[]> = { static: STATIC_KEYS, dynamic: DYNAMIC_KEYS, 'weight-only': WEIGHT_ONLY_KEYS, fp16: FP16_KEYS, prune: PRUNE_KEYS };

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function checkOptions(options: unknown, kind: string, at: string, fail: Fail): void {
  if (!isObject(options)) fail(`${at}.options`, 'must be an object');
  const keys = KEYS[kind]!;
  for (const k of Object.keys(options as object)) if (!keys.includes(k)) fail(`${at}.options.${k}`, `is not an option a ${kind} recipe keeps (${keys.join(', ')})`);
}

function checkData(data: unknown, at: string, fail: Fail): void {
  if (data === undefined) return;
  if (!isObject(data)) fail(`${at}.data`, 'must be an object ({ calibration: path })');
  for (const [k, v] of Object.entries(data as object)) {
    if (k !== 'calibration') fail(`${at}.data.${k}`, 'is not data a recipe reads (calibration)');
    if (typeof v !== 'string' || !v) fail(`${at}.data.${k}`, 'must be a path relative to the recipe');
  }
}

function checkPlan(plan: unknown, at: string, fail: Fail): void {
  if (!isObject(plan) || plan.schema !== 'slimnet.prune-plan/1') fail(`${at}.plan`, "must be a pruning plan (schema 'slimnet.prune-plan/1', as --plan-out writes it)");
  const p = plan as Record<string, unknown>;
  if (typeof p.model !== 'string') fail(`${at}.plan.model`, 'must be the sha256 of the model the plan was made for');
  if (!Array.isArray(p.layers)) fail(`${at}.plan.layers`, 'must be a list');
  (p.layers as unknown[]).forEach((l, i) => {
    const x = l as Record<string, unknown>;
    if (!isObject(l) || typeof x.node !== 'string' || typeof x.sparsity !== 'number' || !(x.sparsity >= 0 && x.sparsity < 1)) fail(`${at}.plan.layers[${i}]`, 'must name a node and a sparsity in [0, 1)');
  });
  if (p.groups !== undefined) {
    if (!Array.isArray(p.groups)) fail(`${at}.plan.groups`, 'must be a list');
    (p.groups as unknown[]).forEach((g, i) => {
      const x = g as Record<string, unknown>;
      if (!isObject(g) || typeof x.id !== 'number' || typeof x.units !== 'number' || !Array.isArray(x.drop) || !x.drop.every((u) => Number.isInteger(u) && u >= 0 && u < (x.units as number))) fail(`${at}.plan.groups[${i}]`, 'must give id, units and drop (unit indices below units)');
    });
  }
}

export function checkStep(step: unknown, at: string, fail: Fail, file: string): void {
  if (!isObject(step) || Object.keys(step).length !== 1 || !('quantize' in step || 'prune' in step)) fail(at, 'must be { quantize: ... } or { prune: ... }');
  const s = step as Record<string, Record<string, unknown>>;
  if (s.prune) {
    const p = s.prune;
    checkOptions(p.options, 'prune', `${at}.prune`, fail);
    checkPlan(p.plan, `${at}.prune`, fail);
    checkData(p.data, `${at}.prune`, fail);
    return;
  }
  const q = s.quantize!;
  const where = `${at}.quantize`;
  if (!isObject(q)) fail(where, 'must be an object');
  if (!(QUANTIZE_MODES as readonly unknown[]).includes(q.mode)) fail(`${where}.mode`, `must be one of ${QUANTIZE_MODES.join(', ')} (got ${JSON.stringify(q.mode)})`);
  const mode = q.mode as string;
  checkOptions(q.options, mode, where, fail);
  if (mode === 'static') {
    if (!isObject(q.ranges)) fail(`${where}.ranges`, 'must be an object of tensor: [min, max]');
    for (const [k, v] of Object.entries(q.ranges as object)) {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] > v[1]) fail(`${where}.ranges.${k}`, `must be [min, max] with min <= max (got ${JSON.stringify(v)})`);
    }
    checkDecisions(q.decisions, `${file}: ${where}`);
  } else if (mode === 'fp16') {
    const d = q.decisions as Record<string, unknown> | undefined;
    if (!isObject(d) || !isObject(d.beyondFp16)) fail(`${where}.decisions.beyondFp16`, 'must be an object of value name: largest magnitude');
    for (const [k, v] of Object.entries(d!.beyondFp16 as object)) if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.decisions.beyondFp16.${k}`, `must be a number (got ${JSON.stringify(v)})`);
  }
  checkData(q.data, where, fail);
}
