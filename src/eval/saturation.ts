/**
 * Saturation is never silent: which int8 ops of a model can overflow the int16 pair sums of x86
 * U8S8 kernels without VNNI (src/target/pair-budget.ts), and, on a CPU where they do, how much
 * the outputs change. The measurement compares ONNX Runtime's default session with one that sets
 * `session.x64quantprecision=1`, ORT's own switch to exact U8U8 kernels: the difference is the
 * saturation error and nothing else.
 */
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { DataType } from '../ir/data-type.js';
import type { Tensor } from '../ir/tensor.js';
import type { Engine } from '../runtime/engine.js';
import type { Feeds } from '../runtime/types.js';
import { errorMessage } from '../errors.js';
import { channelsOverBudget, type PairOrder } from '../target/pair-budget.js';
import { probeU8S8 } from '../target/int8-probe.js';
import { asFloat32 } from '../runtime/tensor-data.js';

export interface OpAtRisk {
  node: string;
  op: string;
  /** Output channels whose two largest same-sign int8 weights sum to more than 128. */
  channels: number;
}

export interface SaturationReport {
  /** Ops whose int8 weights can saturate a U8S8 kernel without VNNI. */
  atRisk: OpAtRisk[];
  /** This CPU's U8S8 kernels saturate (measured by the int8 probe). */
  hostSaturates: boolean;
  /** On a saturating CPU with ops at risk: the outputs against exact arithmetic. */
  measured?: { sqnrDb: number; samples: number } | { error: string };
  /** One sentence for reports (undefined when nothing can saturate). */
  message?: string;
}

/**
 * How each op's kernel pairs a weight (docs/research/x86-saturation.md): the output-channel axis and
 * the pairing order, or undefined when it cannot saturate (depthwise Conv widens its operands;
 * ConvInteger and MatMulNBits never use the U8S8 pair sums).
 */
type Pairing = { axis: number; order: PairOrder } | undefined;

function convPairing(n: Node, t: Tensor): Pairing {
  const group = n.getInt('group', 1);
  if (group > 1 && t.dims[1] === 1 && t.dims[0] === group) return undefined;
  return { axis: 0, order: t.rank >= 3 ? 'conv' : 'any' };
}
const alongK = (_n: Node, t: Tensor): Pairing => ({ axis: t.rank - 1, order: t.rank === 2 ? 'natural' : 'any' });
const gemmB = (n: Node): Pairing => ({ axis: n.getInt('transB', 0) ? 0 : 1, order: 'natural' });

/** Integer ops and the inputs holding int8 weights multiplied by uint8 activations. */
const WEIGHT_SLOTS: Readonly<Record<string, readonly { input: number; pairing: (n: Node, t: Tensor) => Pairing }[]>> = {
  QLinearConv: [{ input: 3, pairing: convPairing }],
  QLinearMatMul: [{ input: 3, pairing: alongK }],
  MatMulInteger: [{ input: 1, pairing: alongK }],
  MatMulIntegerToFloat: [{ input: 1, pairing: alongK }],
  DynamicQuantizeMatMul: [{ input: 1, pairing: alongK }],
  QGemm: [{ input: 3, pairing: gemmB }],
  QAttention: [{ input: 1, pairing: () => ({ axis: 1, order: 'natural' }) }],
  // [dirs, input, 4 x hidden], summed over `input` per direction: bounded whatever the pairing.
  DynamicQuantizeLSTM: [{ input: 1, pairing: () => ({ axis: 2, order: 'any' }) }, { input: 2, pairing: () => ({ axis: 2, order: 'any' }) }],
};

/** Float ops whose weight comes from a DequantizeLinear in QDQ form (ORT fuses them into the ops above). */
const QDQ_WEIGHTS: Readonly<Record<string, (n: Node, t: Tensor) => Pairing>> = { Conv: convPairing, MatMul: alongK, Gemm: gemmB };

function int8Weight(v: { constant?: Tensor } | null | undefined): Tensor | undefined {
  const t = v?.constant;
  return t && t.dataType === DataType.INT8 ? t : undefined;
}

/** The ops of `model` whose int8 weights can saturate without VNNI (static analysis of the stored weights). */
export function findSaturationRisk(model: Model): OpAtRisk[] {
  const out: OpAtRisk[] = [];
  for (const node of model.graph.allNodes()) {
    let channels = 0;
    const count = (t: Tensor | undefined, pairing: (n: Node, t: Tensor) => Pairing) => {
      const p = t && pairing(node, t);
      if (t && p) channels += channelsOverBudget(t.data() as Int8Array, t.dims, p.axis, p.order);
    };
    for (const slot of WEIGHT_SLOTS[node.opType] ?? []) count(int8Weight(node.input(slot.input)), slot.pairing);
    const qdq = QDQ_WEIGHTS[node.opType];
    const dq = node.input(1)?.producer;
    if (qdq && node.domain === '' && dq?.opType === 'DequantizeLinear') count(int8Weight(dq.input(0)), qdq);
    if (channels) out.push({ node: node.name, op: node.opType, channels });
  }
  return out;
}

function sqnr(reference: Float32Array, actual: Float32Array): number {
  let signal = 0, noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i]! * reference[i]!;
    const d = reference[i]! - actual[i]!;
    noise += d * d;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** Runs `model` with ORT's default kernels and with exact U8U8 ones (x64quantprecision), on `feeds`. */
async function measureSaturation(engine: Engine, model: Model | string, feeds: Feeds[]): Promise<{ sqnrDb: number; samples: number } | { error: string }> {
  const sessions = [];
  try {
    sessions.push(await engine.createSession(model, { providers: ['cpu'], intraOpThreads: 1 }));
    sessions.push(await engine.createSession(model, { providers: ['cpu'], intraOpThreads: 1, config: { 'session.x64quantprecision': '1' } }));
  } catch (err) {
    for (const s of sessions) await s.release();
    return { error: errorMessage(err) };
  }
  const [fast, exact] = sessions as [typeof sessions[0], typeof sessions[0]];
  let worst = Infinity;
  try {
    for (const f of feeds) {
      const [a, b] = [await fast.run(f), await exact.run(f)];
      for (const [k, t] of Object.entries(b)) {
        if (t.type !== 'float32' && t.type !== 'float16') continue;
        worst = Math.min(worst, sqnr(asFloat32(t), asFloat32(a[k]!)));
      }
    }
  } finally {
    await fast.release();
    await exact.release();
  }
  // Samples, not runs: each feed may hold a batch.
  return { sqnrDb: worst, samples: feeds.reduce((n, f) => n + (Object.values(f)[0]?.dims[0] ?? 1), 0) };
}

/**
 * The saturation report of a model on this CPU. With `feeds` and a CPU that saturates, the error is
 * measured; otherwise the risk is only stated.
 */
export async function checkSaturation(model: Model, engine: Engine, feeds: Feeds[] = [], source?: Model | string): Promise<SaturationReport> {
  const atRisk = findSaturationRisk(model);
  const probe = await probeU8S8(engine);
  const report: SaturationReport = { atRisk, hostSaturates: !probe.u8s8Exact };
  if (!atRisk.length) return report;
  const ops = `${atRisk.length} int8 op(s) (${atRisk.slice(0, 3).map((r) => r.node).join(', ')}${atRisk.length > 3 ? ', ...' : ''})`;
  const fix = 'requantize with slimnet quantize --target x86-avx2 (the default --target host does this on such a CPU), or run it with the session option session.x64quantprecision=1';
  if (!report.hostSaturates) {
    report.message = `${ops} can saturate on x86 CPUs without VNNI (u8 x s8 pairs overflow int16 there); exact on this CPU. For those CPUs, ${fix}`;
    return report;
  }
  if (feeds.length) report.measured = await measureSaturation(engine, source ?? model, feeds);
  const m = report.measured;
  const effect = !m ? 'accuracy may suffer here' : 'error' in m ? `the exact comparison could not run (${m.error})` : `measured here on ${m.samples} sample(s): output SQNR ${Number.isFinite(m.sqnrDb) ? `${m.sqnrDb.toFixed(1)} dB` : 'unchanged (inf dB)'} against exact arithmetic`;
  report.message = `${ops} saturate on this CPU (no VNNI: u8 x s8 pairs overflow int16): ${effect}. To fix, ${fix}`;
  return report;
}
