/** Layout of a row-major tensor around a channel axis, for per-channel loops over typed arrays. */

/** Shape split around `axis`: outer x channels x inner (axis null: one channel holding everything). */
export function splitChannels(dims: readonly number[], axis: number | null): { outer: number; channels: number; inner: number } {
  if (axis === null) return { outer: 1, channels: 1, inner: dims.reduce((a, b) => a * b, 1) };
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { outer, channels: dims[axis]!, inner };
}
