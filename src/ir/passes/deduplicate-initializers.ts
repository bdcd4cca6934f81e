/** Makes identical initializers (same type, shape and bytes) in a graph share one value. */
import { createHash } from 'node:crypto';
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import type { Value } from '../value.js';
import type { Pass } from './pass.js';

function fingerprint(v: Value): string {
  const t = v.constValue!;
  const h = createHash('sha1');
  if (t.isString) for (const s of t.strings()) { h.update(s); h.update('\0'); }
  else {
    // External weights are hashed and dropped again, so a model larger than memory streams through.
    const wasExternal = t.isExternal;
    h.update(t.bytes());
    if (wasExternal) t.release();
  }
  return `${t.dataType}|${t.dims.join('x')}|${h.digest('hex')}`;
}

/** `keep`: initializers that must stay separate values even when identical to another. */
export function deduplicateIn(g: Graph, keep?: (v: Value) => boolean): boolean {
  let changed = false;
  const seen = new Map<string, Value>();
  for (const v of [...g.initializers.values()]) {
    // Graph inputs and outputs are part of the model's interface and keep their names.
    if (g.inputs.includes(v) || g.outputs.includes(v) || keep?.(v)) continue;
    const key = fingerprint(v);
    const first = seen.get(key);
    if (!first) {
      seen.set(key, v);
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
