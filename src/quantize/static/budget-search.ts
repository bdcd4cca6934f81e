/**
 * `--max-drop X`: the fastest (or smallest, or most accurate) static int8 model whose accuracy drop
 * on evaluation data stays within X. Every placement profile is evaluated as is; a profile that
 * misses the budget keeps its most harmful layers in float, found by a bisection on how many over
 * one sensitivity ranking (computed once, `analyzeLayers` on the 'full' model), not one evaluation
 * per layer. Variants inside the budget are then timed against float on the target (paired
 * rounds) and the preference picks one (src/tune/variants.ts); for speed, the variants clearly
 * faster than float are then timed against each other (src/tune/finalists.ts), so a gap inside the
 * noise never overturns the order of drop, size and layers kept float. Every variant tried is kept,
 * with its drop, speed and size, for the Pareto report.
 */
import type { Model } from '../../ir/model.js';
import { modelToBytes } from '../../onnx/io.js';
import type { Engine } from '../../runtime/engine.js';
import type { Feeds } from '../../runtime/types.js';
import type { TensorRange } from '../../calibrate/types.js';
import type { DataSource } from '../../calibrate/data/open.js';
import { UnsupportedOpError, throwIfAborted } from '../../errors.js';
import type { DropEvaluator } from '../../eval/drop-evaluator.js';
import { analyzeLayers } from '../../eval/per-layer.js';
import { timePaired } from '../../tune/paired-timing.js';
import { choose, effectiveRatio, smallestFitting, type Preference, type VariantRecord } from '../../tune/variants.js';
import { decideFinals, type Duel } from '../../tune/finalists.js';
import { PLACEMENT_PROFILES, type ResolvedStaticOptions } from './options.js';
import { buildCandidate, rejected, type Candidate } from './placement-search.js';

export type BudgetStop = 'budget met' | 'impossible' | 'time out';

export interface BudgetOptions {
  maxDrop: number;
  prefer: Preference;
  /** Seconds the search may take (evaluations and timing); the best model so far is kept when it runs out. */
  timeBudgetS?: number;
  signal?: AbortSignal;
}

export interface BudgetReport {
  metric: string;
  unit: string;
  maxDrop: number;
  prefer: Preference;
  referenceScore: number;
  samples: number;
  variants: VariantRecord[];
  chosen: string;
  stop: BudgetStop;
  /** Why the search stopped, in a sentence. */
  verdict: string;
  evaluations: number;
  /** Layers kept in float for the budget, most harmful first. */
  keptFloat: string[];
  /** The ranking the bisection followed (node names), when it was needed. */
  ranking?: string[];
  /** For speed, between variants all clearly faster than float: each finalist timed against the round's reference. */
  finals?: Duel[];
  seconds: number;
}

/** Paired rounds a variant inside the budget gets at least, unless its answer is settled earlier. */
const BUDGET_ROUNDS = 60;

const KEEP_REASON = 'kept in float for the accuracy budget (--max-drop): among the layers whose int8 error hurts the output most';

interface Built {
  candidate: Candidate;
  record: VariantRecord;
}

export async function searchWithinBudget(
  pre: Model, ranges: Map<string, TensorRange>, opts: ResolvedStaticOptions, evaluator: DropEvaluator, evalData: DataSource,
  engines: { cpu: Engine; timing: Engine | undefined }, timingFeeds: Feeds | undefined, o: BudgetOptions,
): Promise<{ chosen: Candidate; report: BudgetReport }> {
  const start = performance.now();
  const overTime = () => o.timeBudgetS !== undefined && (performance.now() - start) / 1000 > o.timeBudgetS;
  const built: Built[] = [];
  let evaluations = 0;
  let timedOut = false;

  const evaluate = async (candidate: Candidate, keptFloat: number): Promise<Built> => {
    throwIfAborted(o.signal, 'quantization');
    const { score, drop } = await evaluator.evaluate(candidate.model);
    evaluations++;
    const b = { candidate, record: { label: candidate.label, drop, score, sizeBytes: modelToBytes(candidate.model).length, keptFloat, withinBudget: drop <= o.maxDrop } };
    built.push(b);
    return b;
  };

  // 1. Every placement profile as it is (profiles that plan the same nodes are one variant).
  const seen = new Set<string>();
  const bases: Built[] = [];
  for (const placement of PLACEMENT_PROFILES) {
    const c = buildCandidate(pre, ranges, opts, placement);
    const key = c.plan.nodes.map((n) => `${n.node}:${n.action}`).join('|');
    if (seen.has(key) || !c.plan.nodes.some((n) => n.action === 'quantize')) continue;
    seen.add(key);
    bases.push(await evaluate(c, 0));
  }

  // 2. Profiles over budget: keep the most harmful layers in float, as few as the bisection finds.
  let ranking: string[] | undefined;
  const failing = bases.filter((b) => !b.record.withinBudget);
  if (failing.length && !overTime()) {
    const full = bases.find((b) => b.candidate.placement === 'full') ?? bases[0]!;
    try {
      const analysis = await analyzeLayers(full.candidate.model, evalData, { reference: pre, samples: 16, sensitivity: 'only', engine: engines.cpu, ...(o.signal ? { signal: o.signal } : {}) });
      ranking = analysis.ranking;
    } catch (err) {
      if (!(err instanceof UnsupportedOpError)) throw err;
    }
    for (const base of failing) {
      if (!ranking?.length) break;
      const planned = new Set(base.candidate.plan.nodes.filter((n) => n.action === 'quantize').map((n) => n.node));
      const order = ranking.filter((n) => planned.has(n));
      const variantWith = async (k: number): Promise<Built> => {
        const forceFloat = new Map(order.slice(0, k).map((n) => [n, KEEP_REASON]));
        const c = buildCandidate(pre, ranges, opts, base.candidate.placement, { forceFloat }, `${base.candidate.placement}, ${k} layer${k === 1 ? '' : 's'} float`);
        return k === 0 ? base : built.find((b) => b.candidate.label === c.label) ?? evaluate(c, k);
      };
      await smallestFitting(0, order.length, async (k) => {
        if (overTime()) { timedOut = true; return true; }
        return (await variantWith(k)).record.withinBudget;
      });
      if (timedOut) break;
    }
  } else if (failing.length) {
    timedOut = true;
  }

  // 3. Float compute with int8-stored weights: float speed (ORT folds the decoding at load, so
  // float's own times stand for it), nearly float accuracy: what int8 must beat.
  if (!overTime()) {
    const storage = await evaluate(buildCandidate(pre, ranges, opts, 'storage'), pre.graph.nodes.length);
    storage.record.latencyRatio = 1;
  }

  // 4. Time the int8 variants inside the budget against float on the target, then choose.
  const inside = built.filter((b) => b.record.withinBudget);
  const toTime = inside.filter((b) => b.candidate.placement !== 'storage');
  if (engines.timing && timingFeeds && toTime.length) {
    // As the placement search times them: a small model in two batches of fresh sessions, judged by the worse.
    // At least BUDGET_ROUNDS paired rounds for a variant whose answer is not settled: with the 20
    // the 3 s budget leaves a 20 ms model, whether the ViT fixture at batch 32 was clearly faster
    // than float (1.1-1.2x) flipped run to run, and the chosen variant with it.
    const timed = await timePaired(engines.timing, [pre, ...toTime.map((b) => b.candidate.model)], timingFeeds, o.signal, undefined, BUDGET_ROUNDS).catch(rejected);
    toTime.forEach((b, i) => {
      b.record.latencyRatio = timed.worse[i]!.median;
      b.record.latencyRatioHigh = timed.worse[i]!.high;
      b.record.latencyRatioLow = timed.worse[i]!.low;
      b.record.latencyMs = timed.medianMs[i]!;
    });
  }
  const records = built.map((b) => b.record);
  // For speed, two or more variants clearly faster than float are compared with each other
  // directly (src/tune/finalists.ts): each timed against float alone, near-equal ones swapped
  // places run to run on noise.
  const finalists = o.prefer === 'speed' && engines.timing && timingFeeds ? inside.filter((b) => effectiveRatio(b.record) < 1) : [];
  let finals: Duel[] | undefined;
  let pick = choose(records, o.prefer);
  if (finalists.length > 1) {
    const modelOf = new Map(finalists.map((b) => [b.record, b.candidate.model]));
    const decided = await decideFinals(finalists.map((b) => b.record), async (reference, challengers) =>
      (await timePaired(engines.timing!, [modelOf.get(reference)!, ...challengers.map((c) => modelOf.get(c)!)], timingFeeds!, o.signal, undefined, BUDGET_ROUNDS).catch(rejected)).worse);
    pick = decided.winner;
    finals = decided.duels;
  }
  // Nothing inside the budget: the most accurate variant found.
  const chosen = pick ? built.find((b) => b.record === pick)! : [...built].sort((a, b) => a.record.drop - b.record.drop)[0]!;
  const stop: BudgetStop = pick ? 'budget met' : timedOut ? 'time out' : 'impossible';
  const keptFloat = [...chosen.candidate.plan.nodes].filter((n) => n.detail.startsWith(KEEP_REASON)).map((n) => n.node);
  const u = evaluator.unit;
  const fmt = (x: number) => `${Number(x.toFixed(3))} ${u}`;
  const verdict = stop === 'budget met'
    ? `${chosen.record.label}: drop ${fmt(chosen.record.drop)} within ${fmt(o.maxDrop)} (${evaluator.metricName} on ${evaluator.samples} samples)${chosen.record.latencyRatio ? `, ${(1 / chosen.record.latencyRatio).toFixed(2)}x float32` : ''}, chosen for ${o.prefer} among ${inside.length} inside the budget${finals ? ` (${finalists.length} clearly faster than float, then timed against each other: ${finalsText(finals)})` : ''}; ${evaluations} evaluations`
    : stop === 'time out'
      ? `the time budget (${o.timeBudgetS} s) ran out after ${evaluations} evaluations before a variant within ${fmt(o.maxDrop)} was found; kept the most accurate so far, ${chosen.record.label} (drop ${fmt(chosen.record.drop)})`
      : `no variant stays within ${fmt(o.maxDrop)} (${evaluator.metricName} on ${evaluator.samples} samples), not even float compute with int8-stored weights; kept the most accurate, ${chosen.record.label} (drop ${fmt(chosen.record.drop)}); ${evaluations} evaluations`;
  return {
    chosen: chosen.candidate,
    report: {
      metric: evaluator.metricName, unit: u, maxDrop: o.maxDrop, prefer: o.prefer, referenceScore: evaluator.referenceScore, samples: evaluator.samples,
      variants: records, chosen: chosen.record.label, stop, verdict, evaluations, keptFloat, ...(ranking ? { ranking } : {}), ...(finals ? { finals } : {}),
      seconds: (performance.now() - start) / 1000,
    },
  };
}

/** "a 0.93x b [0.90-0.97]; ...": each duel, the challenger's time over the reference's. */
function finalsText(duels: readonly Duel[]): string {
  return duels.map((d) => `${d.challenger} ${d.stats.median.toFixed(2)}x ${d.reference} [${d.stats.low.toFixed(2)}-${d.stats.high.toFixed(2)}]`).join('; ');
}
