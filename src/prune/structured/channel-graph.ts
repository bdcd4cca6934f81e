/**
 * The dependency structure of channels, at the level of single channels: every position along a
 * tracked axis of a tensor carries an id, and ids that must be removed together are joined in a
 * union-find. A Conv's output channels get new ids; a BatchNorm, a ReLU or a pooling passes its
 * input's ids through; a residual Add joins the ids of its two inputs position by position; a
 * Concat lays its inputs' ids side by side; a Reshape into heads joins every id of a head. A
 * dependency group is then a set of ids that are all joined, and removing it from every tensor
 * where its ids appear is consistent by construction.
 *
 * Anything the rules cannot prove safe (a graph output, a LayerNorm over the channel axis, an op
 * without a rule, a Reshape whose shapes are unknown) blocks the ids it touches, with the reason;
 * a group with one blocked id is left alone.
 */
import type { Value } from '../../ir/value.js';

export interface TrackedDim {
  axis: number;
  ids: Int32Array;
}

export class ChannelGraph {
  private parent: Int32Array = new Int32Array(1024);
  private count = 0;
  readonly dims = new Map<Value, TrackedDim[]>();
  private readonly blockedIds = new Map<number, string>();

  /** `n` new ids, each its own group. */
  fresh(n: number): Int32Array {
    if (this.count + n > this.parent.length) {
      const grown = new Int32Array(Math.max(2 * this.parent.length, this.count + n));
      grown.set(this.parent);
      this.parent = grown;
    }
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = this.count;
      this.parent[this.count] = this.count;
      this.count++;
    }
    return ids;
  }

  find(id: number): number {
    let r = id;
    while (this.parent[r] !== r) r = this.parent[r]!;
    // Path compression.
    let x = id;
    while (this.parent[x] !== r) {
      const next = this.parent[x]!;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }

  /** Joins two id arrays position by position (same length). */
  tie(a: Int32Array, b: Int32Array): void {
    if (a.length !== b.length) throw new Error(`tie: ${a.length} vs ${b.length} channels`);
    for (let i = 0; i < a.length; i++) this.union(a[i]!, b[i]!);
  }

  block(ids: Iterable<number>, reason: string): void {
    for (const id of ids) if (!this.blockedIds.has(id)) this.blockedIds.set(id, reason);
  }

  /** Blocks every tracked axis of `v`. */
  blockValue(v: Value, reason: string): void {
    for (const d of this.dims.get(v) ?? []) this.block(d.ids, reason);
  }

  get(v: Value | null | undefined): TrackedDim[] {
    return (v && this.dims.get(v)) || [];
  }

  dimAt(v: Value | null | undefined, axis: number): TrackedDim | undefined {
    return this.get(v).find((d) => d.axis === axis);
  }

  /** Adds a tracked axis to `v`; when `v` already tracks that axis, the two are joined. */
  track(v: Value, axis: number, ids: Int32Array): void {
    const list = this.dims.get(v) ?? [];
    const existing = list.find((d) => d.axis === axis);
    if (existing) {
      if (existing.ids.length === ids.length) this.tie(existing.ids, ids);
      else this.block([...existing.ids, ...ids], `tensor '${v.name}' axis ${axis} is reached with ${existing.ids.length} and ${ids.length} channels`);
      return;
    }
    list.push({ axis, ids });
    this.dims.set(v, list);
  }

  /** The reason a group (its root) is blocked, if any id joined to it is. */
  blockedRoots(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [id, reason] of this.blockedIds) {
      const r = this.find(id);
      if (!out.has(r)) out.set(r, reason);
    }
    return out;
  }
}
