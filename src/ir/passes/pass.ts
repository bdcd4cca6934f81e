/** A pass is a function over the model that says whether it changed anything. */
import type { Model } from '../model.js';
import { PassError, SlimnetError } from '../../errors.js';

export interface Pass {
  readonly name: string;
  run(model: Model): boolean;
}

export interface PassRunLog {
  iterations: number;
  /** Pass names in the order they reported a change. */
  changed: string[];
}

/**
 * Runs the passes in order, repeating the list until none reports a change (a fixed point) or
 * `maxIterations` is reached. Errors name the pass that raised them.
 */
export function runPasses(model: Model, passes: Pass[], options: { maxIterations?: number } = {}): PassRunLog {
  const max = options.maxIterations ?? 20;
  const log: PassRunLog = { iterations: 0, changed: [] };
  for (let it = 0; it < max; it++) {
    log.iterations++;
    let any = false;
    for (const p of passes) {
      let changed: boolean;
      try {
        changed = p.run(model);
      } catch (err) {
        if (err instanceof SlimnetError && !(err instanceof PassError)) throw err;
        throw new PassError(`pass '${p.name}' failed on ${model.label()}: ${(err as Error).message}`, { cause: err });
      }
      if (changed) {
        any = true;
        log.changed.push(p.name);
      }
    }
    if (!any) return log;
  }
  return log;
}
