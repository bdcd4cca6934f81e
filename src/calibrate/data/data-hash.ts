/**
 * A fingerprint of the data a calibration saw (recorded in ranges.json): sha256 over each input's
 * bytes in sample order, so the same samples give the same hash whatever the batch size.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Feeds } from '../../runtime/types.js';

export class DataHasher {
  private readonly perInput = new Map<string, Hash>();
  private samples = 0;

  update(feeds: Feeds, count: number): void {
    for (const [name, t] of Object.entries(feeds)) {
      let h = this.perInput.get(name);
      if (!h) this.perInput.set(name, (h = createHash('sha256')));
      if (Array.isArray(t.data)) for (const s of t.data) h.update(s);
      else h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    this.samples += count;
  }

  digest(): string {
    const all = createHash('sha256');
    all.update(`samples:${this.samples}\n`);
    for (const name of [...this.perInput.keys()].sort()) all.update(`${name}:${this.perInput.get(name)!.digest('hex')}\n`);
    return all.digest('hex');
  }
}
