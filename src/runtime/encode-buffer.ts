/**
 * One reusable buffer for the models an Engine encodes for its worker. Writing 100 MB into fresh
 * memory costs 0.4 s where page faults are slow (this project's VMs: ~4 ms per MB), into memory
 * already touched about 10 ms; the placement search encodes the same float model (and candidates
 * of its size) a dozen times. The buffer travels to the worker with the create request and comes
 * back with the answer, transferred both ways (never copied); while it is away, or when a model
 * does not fit, an encode gets fresh memory as before.
 */
import type { EncodeAlloc } from '../onnx/encode.js';

/**
 * Larger models are not pooled: they come from paths that bound their memory (a language model's
 * parts), where a resident spare would count against the bound.
 */
export const MAX_POOLED_BYTES = 128 * 2 ** 20;
/** Smaller models cost little to encode; they keep Node's own allocation. */
const MIN_POOLED_BYTES = 2 ** 20;

export class EncodeBuffer {
  private spare: ArrayBuffer | undefined;
  private readonly made = new WeakSet<ArrayBuffer>();

  /** protobufjs's output buffer: the spare when it is large enough, else fresh memory. */
  readonly alloc: EncodeAlloc = (length) => {
    if (length < MIN_POOLED_BYTES || length > MAX_POOLED_BYTES) return Buffer.allocUnsafe(length);
    let buffer = this.spare;
    this.spare = undefined;
    if (!buffer || buffer.byteLength < length) {
      buffer = new ArrayBuffer(length);
      this.made.add(buffer);
    }
    return Buffer.from(buffer, 0, length);
  };

  /** Whether `bytes` lives in a buffer of this pool (so the worker should send it back). */
  owns(bytes: Uint8Array): boolean {
    return bytes.buffer instanceof ArrayBuffer && this.made.has(bytes.buffer);
  }

  /** A buffer back from the worker: kept as the spare, unless the spare is already larger. */
  giveBack(buffer: ArrayBuffer): void {
    if (this.spare && this.spare.byteLength >= buffer.byteLength) return;
    this.spare = buffer;
    this.made.add(buffer);
  }

  /** Lets the spare go (the engine is closing). */
  clear(): void {
    this.spare = undefined;
  }
}
