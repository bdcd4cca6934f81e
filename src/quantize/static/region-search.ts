/**
 * Step 2 of the placement search: per-region costs from ORT's profiler. Each int8 region of a
 * profile (regions.ts) is charged its kernels, Q/DQ and layout changes in the int8 model and the
 * same nodes' kernels in the float model (region-costs.ts). A region that does not beat float by
 * REGION_MARGIN goes back to float; in the others, slow kernels at the edge are peeled off. The
 * result is one more candidate for the whole-model timing, with the measured reason on every node
 * it reverted.
 */
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { cloneModel } from '../../ir/clone.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { TensorRange } from '../../calibrate/types.js';
import type { ResolvedStaticOptions } from './options.js';
import { planRegions, type Region } from './regions.js';
import { profileNodes, type NodeProfile } from './node-profile.js';
import { chargeCosts, labelQdqNodes, nodeKey, regionCosts } from './region-costs.js';
import { buildCandidate, rejected, type Candidate, type ConcretePlacement } from './placement-search.js';

/** One int8 region's measured cost (ms per run, ORT profiler) and what the search did with it. */
export interface RegionDecision {
  profile: ConcretePlacement;
  nodes: string[];
  int8Ms: number;
  floatMs: number;
  kept: boolean;
}

/** An int8 region must save at least 5% of the same nodes' float time to stay. */
export const REGION_MARGIN = 0.05;

const us = (ms: number) => `${(ms * 1000).toFixed(ms < 0.01 ? 1 : 0)} us`;

/**
 * Nodes at the edge of a kept region (reading only float tensors, or read only by float nodes)
 * whose own int8 kernel does not beat their float kernel: reverting one moves a Q/DQ pair by one
 * node and saves the slow kernel (a first convolution over one or three channels is the usual
 * case). Repeats as the edge moves.
 */
function peelEdges(pre: Model, region: Region, inRegion: Set<string>, own: (n: string) => [number, number]): string[] {
  const byName = new Map<string, Node>();
  for (const n of pre.graph.allNodes()) byName.set(n.name, n);
  const compute = new Set(region.compute);
  // Whether int8 compute of the region is reachable through the region's shared/folded nodes.
  const reaches = (n: Node, dir: 'up' | 'down', seen = new Set<Node>()): boolean => {
    const next = dir === 'up'
      ? n.inputs.map((v) => v?.producer ?? null).filter((p): p is Node => p !== null)
      : n.outputs.flatMap((o) => o.uses.map((u) => u.node));
    for (const m of next) {
      if (seen.has(m) || !inRegion.has(m.name)) continue;
      seen.add(m);
      if (compute.has(m.name) || reaches(m, dir, seen)) return true;
    }
    return false;
  };
  const peeled: string[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const name of region.compute) {
      if (!inRegion.has(name)) continue;
      const n = byName.get(name)!;
      const [i8, f] = own(name);
      if (f === 0 || i8 < f * (1 - REGION_MARGIN) || (reaches(n, 'up') && reaches(n, 'down'))) continue;
      inRegion.delete(name);
      compute.delete(name);
      peeled.push(name);
      changed = true;
    }
  }
  return peeled;
}

/**
 * Step 2 for one profile: its regions that lose to float, and the slow kernels at the edges of
 * the others, as forced-float nodes with the measured reason.
 */
export async function regionalCandidate(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, engine: Engine, feeds: Feeds,
  base: Candidate, floatProfile: NodeProfile, runs: number, decisions: RegionDecision[],
): Promise<Candidate | undefined> {
  const regions = planRegions(pre, base.plan);
  const labelled = cloneModel(base.model);
  labelQdqNodes(labelled);
  const int8Profile = await profileNodes(engine, labelled, feeds, runs).catch(rejected);
  const planned = (name: string) => regions.ofNode.has(name);
  const int8Costs = chargeCosts(int8Profile, pre, planned);
  const floatCosts = chargeCosts(floatProfile, pre, planned);
  const int8 = regionCosts(int8Costs, regions);
  const float = regionCosts(floatCosts, regions);
  const own = (n: string): [number, number] => [int8Costs.get(nodeKey(n)) ?? 0, floatCosts.get(nodeKey(n)) ?? 0];
  const forceFloat = new Map<string, string>();
  const source = `ORT profiler, ${int8Profile.runs} runs`;
  let reverted = 0;
  let peeledCount = 0;
  for (const r of regions.regions) {
    const [i, f] = [int8.get(r.id) ?? 0, float.get(r.id) ?? 0];
    // Nothing charged to the float side: no evidence, keep it (the whole-model timing still checks).
    const kept = f === 0 || i <= f * (1 - REGION_MARGIN);
    decisions.push({ profile: base.placement, nodes: r.nodes, int8Ms: i, floatMs: f, kept });
    if (kept) {
      const peeled = peelEdges(pre, r, new Set(r.nodes), own);
      for (const n of peeled) {
        const [a, b] = own(n);
        forceFloat.set(n, `measured slower in int8 here: its int8 kernel takes ${us(a)} vs ${us(b)} in float, at the edge of its int8 region (${source})`);
      }
      peeledCount += peeled.length;
      continue;
    }
    reverted++;
    const what = r.compute.length > 1 ? `its int8 region (${r.compute.length} int8 ops from ${r.compute[0]})` : 'its int8 group';
    const reason = `measured slower in int8 here: ${what} takes ${us(i)} with its Q/DQ vs ${us(f)} in float (${source})`;
    for (const n of r.nodes) forceFloat.set(n, reason);
  }
  if (reverted === regions.regions.length) return undefined; // all reverted: that is 'storage'
  if (!reverted && !peeledCount) return undefined;
  const parts = [reverted ? `${reverted} of ${regions.regions.length} regions float` : '', peeledCount ? `${peeledCount} edge node${peeledCount > 1 ? 's' : ''} float` : ''].filter(Boolean);
  return buildCandidate(pre, ranges, opts, base.placement, { forceFloat }, `${base.placement}, ${parts.join(', ')}`);
}
