/** The statistics a calibration run collected, looked up by the request that asked for them. */
import type { StatRequest } from '../types.js';
import { statKey, type HistogramStat, type MinMaxStat, type StatResult, type StatResultFor } from './results.js';

export class Statistics {
  constructor(
    private readonly results: Map<string, StatResult>,
    /** Samples that went through the model. */
    readonly samples: number,
    /** Inference runs they took. */
    readonly batches: number,
    /** sha256 of the data (see DataHasher). */
    readonly dataHash: string,
    /** Tensors that were skipped and why (non-float outputs, ...). */
    readonly notes: readonly string[] = [],
  ) {}

  /** The result for a request, or undefined when the tensor was skipped (see `notes`). */
  get<R extends StatRequest>(request: R): StatResultFor<R['kind']> | undefined {
    return this.results.get(statKey(request)) as StatResultFor<R['kind']> | undefined;
  }

  minmax(tensor: string): MinMaxStat | undefined {
    return this.get({ tensor, kind: 'minmax' });
  }

  histogram(tensor: string, bins?: number): HistogramStat | undefined {
    return this.get(bins === undefined ? { tensor, kind: 'histogram' } : { tensor, kind: 'histogram', bins });
  }

  all(): StatResult[] {
    return [...this.results.values()];
  }

  /**
   * Drops every result. Layer by layer, one part's X^T X (350 MB at 1B widths) would otherwise
   * stay reachable from a variable the caller has finished with (an async function's frame keeps
   * it until the slot is reused) while the next part runs.
   */
  release(): void {
    this.results.clear();
  }
}
