/**
 * Per-layer error analysis of a QDQ model: which layer is to blame? Every quantizer is matched to
 * its float counterpart through the Q/DQ structure (see qdq-structure.ts), the model and its float
 * twin run on a few samples, and layers are ranked by how much their quantization alone hurts the
 * output ("quantize only layer k"), how much leaving them float recovers ("everything but layer
 * k"), or the noise their quantizers add. The ranking is data that mixed precision consumes.
 */
import type { Model } from '../ir/model.js';
import { Engine } from '../runtime/engine.js';
import type { Feeds, Session, SessionOptions, TensorData } from '../runtime/types.js';
import { openDataset, type DataSource } from '../calibrate/data/open.js';
import { OptionError, UnsupportedOpError, throwIfAborted } from '../errors.js';
import { ProgressTracker, type ProgressListener } from '../progress.js';
import { OutputComparator } from './compare.js';
import { findQdq, qoperatorOps, type QuantLayer } from './qdq-structure.js';
import { withQuantizedLayers } from './layer-variants.js';
import { matchReference } from './float-counterparts.js';
import { weightError } from './layer-stats.js';
import { passTensors, runLayerPass } from './layer-pass.js';
import { checkDataInputs, feedsFor, modelRef } from './model-runs.js';
import { layerReports, rankLayers, type LayerReport, type RankBy, type VariantScore } from './layer-report.js';

export type Sensitivity = 'none' | 'only' | 'all-but' | 'both';

export interface LayerAnalysisOptions {
  /** The float model that was quantized: supplies the weights' float originals (exact weight error). */
  reference?: Model | string;
  /** Samples to run: a fixed subset spread over the data (default 32). */
  samples?: number;
  /** Samples per run (default 8: every quantized activation is fetched). */
  batchSize?: number;
  /** One-at-a-time runs (default 'only'). */
  sensitivity?: Sensitivity;
  /** Run them for at most this many layers, the ones with the noisiest quantizers (default 64). */
  sensitivityLayers?: number;
  /** Ranking key (default: 'sensitivity' when computed, else 'recovery', else 'quantization'). */
  rankBy?: RankBy;
  /** Output the sensitivity runs compare (default: the first output). */
  output?: string;
  engine?: Engine;
  session?: SessionOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface LayerAnalysis {
  samples: number;
  output: string;
  rankBy: RankBy;
  /** Layers, the one to blame first. */
  layers: LayerReport[];
  /** Node names in ranking order (what mixed precision reads). */
  ranking: string[];
  /** The whole candidate against its float twin. */
  model: VariantScore;
  /** Weight quantizers whose float original was found (exact error) out of all. */
  weightsExact: { matched: number; total: number };
  notes: string[];
}

async function primaryOutputs(session: Session, batches: Feeds[], output: string): Promise<TensorData[]> {
  const out: TensorData[] = [];
  for (const f of batches) out.push((await session.run(feedsFor(session, f), [output]))[output]!);
  return out;
}

export async function analyzeLayers(candidate: Model | string, source: DataSource, options: LayerAnalysisOptions = {}): Promise<LayerAnalysis> {
  const sensitivity = options.sensitivity ?? 'only';
  if (!['none', 'only', 'all-but', 'both'].includes(sensitivity)) throw new OptionError(`sensitivity must be none, only, all-but or both, got '${sensitivity}'`);
  const cand = modelRef(candidate);
  const structure = findQdq(cand.model);
  if (!structure.layers.length) {
    const qops = qoperatorOps(cand.model);
    throw new UnsupportedOpError(qops.length
      ? `${cand.label}: per-layer analysis needs a QDQ model; this one uses QOperator ops (${qops.join(', ')}). Quantize with the QDQ format to analyse it`
      : `${cand.label}: no DequantizeLinear feeds any node, so there is nothing quantized to analyse`);
  }
  const notes = [...structure.skipped];
  const ref = options.reference ? modelRef(options.reference) : undefined;
  const counterparts = matchReference(structure, ref?.model);
  const weightQuantizers = structure.quantizers.filter((q) => q.kind === 'weight');
  if (weightQuantizers.length > counterparts.weights.size) {
    notes.push(`${weightQuantizers.length - counterparts.weights.size} of ${weightQuantizers.length} weights have no float original in ${ref ? ref.label : 'a reference model (none given)'}; their error is estimated from the scale, and the float twin keeps them dequantized`);
  }
  if (counterparts.folds.size) {
    const assumed = [...counterparts.folds.values()].filter((f) => f.source === 'range').length;
    notes.push(`${counterparts.folds.size} quantizer${counterparts.folds.size > 1 ? 's stand' : ' stands'} for a Relu/Clip folded into quantizer ranges ${assumed ? `(assumed from ranges starting at 0, no reference model: ${assumed})` : '(found in the reference)'}; the float twin applies them in float`);
  }
  const twin = withQuantizedLayers(cand.model, structure, () => false, counterparts);
  const engine = options.engine ?? new Engine({ signal: options.signal });
  const sessions: Session[] = [];
  const open = async (m: Model, extra: string[] = []) => {
    const s = await engine.createSession(m, { intraOpThreads: 1, ...options.session, extraOutputs: extra });
    sessions.push(s);
    return s;
  };
  try {
    const inputs = new Set(cand.model.graph.inputs.map((v) => v.name));
    const { floats, dequantized } = passTensors(structure, inputs);
    const data = await openDataset(source, cand.model, { limit: options.samples ?? 32, batchSize: options.batchSize ?? 8 });
    const cs = await open(cand.model, [...floats, ...dequantized]);
    checkDataInputs(data, [{ session: cs, label: cand.label }]);
    const output = options.output ?? cs.info.outputNames[0]!;
    if (!cs.info.outputNames.includes(output)) throw new OptionError(`output '${output}' is not an output of ${cand.label} (${cs.info.outputNames.join(', ')})`);
    const ts = await open(twin, floats);

    const batches: Feeds[] = [];
    let samples = 0;
    for await (const b of data.batches(data.batchSize, { signal: options.signal })) {
      batches.push(b.feeds);
      samples += b.count;
    }
    const pass = await runLayerPass(structure, counterparts.folds, cs, ts, batches, output, inputs, options.signal);
    for (const s of sessions.splice(0)) await s.release();

    const weights = new Map(weightQuantizers.map((q) => [q, weightError(q.integer!, q.params, counterparts.weights.get(q)?.toFloat32())]));
    const score = (outs: TensorData[]): VariantScore => {
      const c = new OutputComparator(output);
      outs.forEach((o, i) => c.add(pass.twinPrimary[i]!, o));
      const r = c.result();
      return { sqnrDb: r.sqnrDb, agreement: r.agreement, cosine: r.cosine };
    };
    const model = score(pass.candPrimary);

    const only = new Map<QuantLayer, VariantScore>();
    const allBut = new Map<QuantLayer, VariantScore>();
    const stats = { actStats: pass.actStats, layerOut: pass.layerOut, weights, only, allBut, model };
    const modes = sensitivity === 'both' ? ['only', 'all-but'] as const : sensitivity === 'none' ? [] : [sensitivity];
    // One-at-a-time runs cost a session per layer and mode: on large models, only the layers whose
    // own quantizers are noisiest get them (the rest rank after, by that noise).
    const limit = options.sensitivityLayers ?? 64;
    let targets = structure.layers;
    if (modes.length && targets.length > limit) {
      const noisiest = new Set(rankLayers(layerReports(structure, { ...stats, folds: counterparts.folds }), 'quantization').slice(0, limit).map((l) => l.position));
      targets = targets.filter((l) => noisiest.has(l.position));
      notes.push(`one-at-a-time sensitivity ran for the ${limit} layers with the noisiest quantizers of ${structure.layers.length} (sensitivityLayers); the others rank after them by quantizer SQNR`);
    }
    const progress = new ProgressTracker('layers', targets.length * modes.length, options.onProgress);
    let done = 0;
    for (const mode of modes) {
      for (const layer of targets) {
        throwIfAborted(options.signal, 'per-layer analysis');
        const variant = withQuantizedLayers(cand.model, structure, mode === 'only' ? (l) => l === layer : (l) => l !== layer, counterparts);
        const s = await open(variant);
        const outs = await primaryOutputs(s, batches, output);
        sessions.splice(sessions.indexOf(s), 1);
        await s.release();
        (mode === 'only' ? only : allBut).set(layer, score(outs));
        progress.update(++done, layer.node.name);
      }
    }
    const layers = layerReports(structure, { ...stats, folds: counterparts.folds });
    const rankBy = options.rankBy ?? (only.size ? 'sensitivity' : allBut.size ? 'recovery' : 'quantization');
    const ranked = rankLayers(layers, rankBy);
    return {
      samples,
      output,
      rankBy,
      layers: ranked,
      ranking: ranked.map((l) => l.node),
      model,
      weightsExact: { matched: counterparts.weights.size, total: weightQuantizers.length },
      notes,
    };
  } finally {
    for (const s of sessions) await s.release();
    if (!options.engine) await engine.close();
  }
}
