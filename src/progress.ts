/** Progress events: every long-running API call reports through the same shape, for CLI and wizard alike. */
export interface ProgressEvent {
  /** What is running: 'calibrate', 'quantize', 'evaluate', 'benchmark', ... */
  stage: string;
  /** Units done and total (samples, nodes, runs), when countable. */
  done: number;
  total?: number;
  /** Estimated seconds left, when it can be told. */
  etaSeconds?: number;
  message?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Estimates time left from the rate so far. */
export class ProgressTracker {
  private readonly start = performance.now();
  constructor(private readonly stage: string, private readonly total: number | undefined, private readonly listener?: ProgressListener) {}

  update(done: number, message?: string): void {
    if (!this.listener) return;
    const e: ProgressEvent = { stage: this.stage, done };
    if (this.total !== undefined) {
      e.total = this.total;
      const elapsed = (performance.now() - this.start) / 1000;
      if (done > 0 && done < this.total) e.etaSeconds = (elapsed / done) * (this.total - done);
    }
    if (message) e.message = message;
    this.listener(e);
  }
}
