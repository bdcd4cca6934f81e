/** Removes nodes whose outputs nobody reads and initializers nobody uses, in all graphs. */
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import type { Pass } from './pass.js';

function isLive(g: Graph, n: import('../node.js').Node): boolean {
  return n.outputs.some((o) => o.uses.length > 0 || g.outputs.includes(o));
}

export function removeUnusedIn(g: Graph): boolean {
  let changed = false;
  // Back to front: removing a consumer can free its producers in the same sweep.
  for (const n of [...g.nodes].reverse()) {
    for (const sg of n.subgraphs()) changed = removeUnusedIn(sg) || changed;
    if (!isLive(g, n)) {
      g.remove(n);
      changed = true;
    }
  }
  for (const v of [...g.initializers.values()]) {
    if (v.uses.length === 0 && !g.outputs.includes(v) && !g.inputs.includes(v)) {
      g.removeInitializer(v);
      changed = true;
    }
  }
  for (const v of [...g.sparseInitializers]) {
    if (v.uses.length === 0 && !g.outputs.includes(v)) {
      g.sparseInitializers.splice(g.sparseInitializers.indexOf(v), 1);
      changed = true;
    }
  }
  return changed;
}

export const removeUnused: Pass = {
  name: 'remove-unused',
  run: (model: Model) => removeUnusedIn(model.graph),
};
