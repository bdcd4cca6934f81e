/**
 * Tensors parked on disk while a large model is being rewritten: a quantizer writes each new
 * tensor here as soon as it exists and keeps only an external reference, so the output never sits
 * in memory whole. Saving reads each parked tensor back once, as it copies it into the output's
 * data file. The file is temporary (next to the output, removed by dispose() or at exit).
 */
import { basename } from 'node:path';
import { AtomicFile } from './atomic-write.js';
import { Tensor } from '../ir/tensor.js';

export class SpillFile {
  private readonly file: AtomicFile;

  /** `near`: a path in the directory to use (the output's), never written itself. */
  constructor(near: string) {
    this.file = new AtomicFile(`${near}.spill`);
  }

  /** Writes the tensor's bytes and returns an external tensor reading them back. */
  park(t: Tensor): Tensor {
    this.file.align(16);
    const offset = this.file.size;
    const bytes = t.bytes();
    this.file.write(bytes);
    const parked = Tensor.external(t.dataType, [...t.dims], { path: this.file.tempPath, location: basename(this.file.tempPath), offset, length: bytes.length }, t.name);
    if (t.docString !== undefined) parked.docString = t.docString;
    return parked;
  }

  /** Removes the file; tensors parked in it must have been saved (or dropped) before. */
  dispose(): void {
    this.file.abort();
  }
}
