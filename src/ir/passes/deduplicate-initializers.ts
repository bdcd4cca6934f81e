/** Makes identical initializers (same type, shape and bytes) in a graph share one value. */
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import type { Value } from '../value.js';
import type { Pass } from './pass.js';

/** Bytes sampled per tensor for its quick key: trained weights differ in them, so few need a full comparison. */
const SAMPLES = 64;

/**
 * Type, shape and a sample of the bytes. Equal keys are compared in full (sameContents): hashing
 * every weight in full cost ResNet-50's pre-processing half a second.
 */
function quickKey(v: Value): string {
  const t = v.constValue!;
  if (t.isString) return `${t.dataType}|${t.dims.join('x')}|${t.strings().map((x) => Buffer.from(x).toString('hex')).join(',')}`;
  const wasExternal = t.isExternal;
  const b = t.bytes();
  const step = Math.max(1, Math.floor(b.length / SAMPLES));
  let sample = '';
  for (let i = 0; i < b.length && sample.length < 2 * SAMPLES; i += step) sample += b[i]!.toString(16).padStart(2, '0');
  // External weights are read and dropped again, so a model larger than memory streams through.
  if (wasExternal) t.release();
  return `${t.dataType}|${t.dims.join('x')}|${b.length}|${sample}`;
}

function sameContents(a: Value, b: Value): boolean {
  const ta = a.constValue!, tb = b.constValue!;
  if (ta.isString || tb.isString) return true; // the key held every string
  const [ea, eb] = [ta.isExternal, tb.isExternal];
  const same = Buffer.compare(ta.bytes(), tb.bytes()) === 0;
  if (ea) ta.release();
  if (eb) tb.release();
  return same;
}

/** `keep`: initializers that must stay separate values even when identical to another. */
export function deduplicateIn(g: Graph, keep?: (v: Value) => boolean): boolean {
  let changed = false;
  const seen = new Map<string, Value[]>();
  for (const v of [...g.initializers.values()]) {
    // Graph inputs and outputs are part of the model's interface and keep their names.
    if (g.inputs.includes(v) || g.outputs.includes(v) || keep?.(v)) continue;
    const key = quickKey(v);
    const alike = seen.get(key) ?? [];
    const first = alike.find((u) => sameContents(u, v));
    if (!first) {
      seen.set(key, [...alike, v]);
      continue;
    }
    v.replaceAllUsesWith(first);
    g.removeInitializer(v);
    changed = true;
  }
  for (const n of g.nodes) for (const sg of n.subgraphs()) changed = deduplicateIn(sg, keep) || changed;
  return changed;
}

export const deduplicateInitializers: Pass = {
  name: 'deduplicate-initializers',
  run: (model: Model) => deduplicateIn(model.graph),
};

/** The same pass, leaving the initializers `keep` selects as they are. */
export function deduplicateInitializersExcept(keep: (v: Value) => boolean, name: string): Pass {
  return { name, run: (model: Model) => deduplicateIn(model.graph, keep) };
}
