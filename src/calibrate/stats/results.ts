/**
 * What the reducers hand back: plain data (typed arrays and numbers) that algorithms read and that
 * can be saved. One type per StatRequest kind.
 */
import type { StatRequest } from '../types.js';

/** Sample count at which a tensor's min/max range widened, and the range after it. */
export interface Widening {
  samples: number;
  min: number;
  max: number;
}

export interface MinMaxStat {
  kind: 'minmax';
  tensor: string;
  /** Extremes over all finite values (Infinity/-Infinity when none were seen). */
  min: number;
  max: number;
  /**
   * Means of the per-batch min and max (moving-average calibration, as ONNX Runtime's
   * CalibMovingAverage; robust to rare outliers, and it depends on the batch size).
   */
  meanMin: number;
  meanMax: number;
  /** Mean, standard deviation and count of the finite values, when the values were read in JS (graph inputs). */
  mean?: number;
  std?: number;
  count?: number;
  /** NaN/Inf values (JS) or rows holding one (runtime extremes); left out of every statistic. */
  nonFinite: number;
  samples: number;
  /** Where the range widened (at most a few hundred entries; older ones are thinned): convergence diagnostics. */
  widenings: Widening[];
}

/**
 * A histogram on a grid anchored at zero: `counts[j]` counts values in
 * [(offset + j) * binWidth, (offset + j + 1) * binWidth). It always covers zero. binWidth is 0 when
 * every value was exactly 0 (then counts = [count]).
 */
export interface HistogramStat {
  kind: 'histogram';
  tensor: string;
  binWidth: number;
  offset: number;
  counts: Float64Array;
  min: number;
  max: number;
  /** Finite values counted. */
  total: number;
  /** Exact zeros among them (post-ReLU sparsity; they quantize without error). */
  zeros: number;
  nonFinite: number;
}

export interface ChannelMinMaxStat {
  kind: 'channel-minmax';
  tensor: string;
  /** Axis normalized to be non-negative. */
  axis: number;
  min: Float32Array;
  max: Float32Array;
}

export interface ChannelL2Stat {
  kind: 'channel-l2';
  tensor: string;
  axis: number;
  /** Sum over all samples and positions of x^2, per index along `axis`. */
  sumSquares: Float64Array;
  /** sqrt(sumSquares): Wanda's ||X_j||_2. */
  norms: Float64Array;
  /** Values per channel that went into each sum (all samples and positions). */
  count: number;
}

export interface ChannelMeanStat {
  kind: 'channel-mean';
  tensor: string;
  axis: number;
  /** Sum over all samples and positions of x, per index along `axis` (NaN/Inf included: a bad input shows). */
  sums: Float64Array;
  /** sums / count. */
  means: Float64Array;
  /** Values per channel that went into each sum. */
  count: number;
}

export interface ChannelAbsMeanStat {
  kind: 'channel-abs-mean';
  tensor: string;
  axis: number;
  /** Mean over all samples and positions of |x|, per index along `axis`. */
  means: Float64Array;
  count: number;
}

export interface XtxStat {
  kind: 'xtx';
  tensor: string;
  /** Size of the last axis (the Gram matrix is size x size, row-major, symmetric). */
  size: number;
  /** Sum over rows of x^T x (not normalized; GPTQ's H = 2 * gram / rows). */
  gram: Float64Array;
  /** Rows (vectors of the last axis) accumulated. */
  rows: number;
}

export interface GramStat {
  kind: 'gram';
  tensor: string;
  /** Convolution groups (1 for rows of a last axis). */
  groups: number;
  /** Matrix size per group (patch length, plus 1 with a bias column, which is the last). */
  size: number;
  bias: boolean;
  /** groups x size x size, row-major, symmetric; sums over every row of every sample (not normalized). */
  gram: Float64Array;
  batches: number;
  /** Rows summed (samples x positions) for rows of a last axis; absent for convolution patches. */
  rows?: number;
}

export type StatResult = MinMaxStat | HistogramStat | ChannelMinMaxStat | ChannelL2Stat | ChannelMeanStat | ChannelAbsMeanStat | XtxStat | GramStat;
export type StatResultFor<K extends StatRequest['kind']> = Extract<StatResult, { kind: K }>;

export const DEFAULT_HISTOGRAM_BINS = 4096;

/** Identifies a request; identical requests from different algorithms share one reducer. */
export function statKey(r: StatRequest): string {
  switch (r.kind) {
    case 'histogram': return `${r.tensor}\u0000histogram\u0000${r.bins ?? DEFAULT_HISTOGRAM_BINS}`;
    case 'channel-minmax': case 'channel-l2': case 'channel-mean': case 'channel-abs-mean': return `${r.tensor}\u0000${r.kind}\u0000${r.axis}`;
    case 'gram': return `${r.tensor}\u0000gram\u0000${r.features}\u0000${r.bias ? 1 : 0}\u0000${r.conv ? JSON.stringify(r.conv) : ''}`;
    default: return `${r.tensor}\u0000${r.kind}`;
  }
}
