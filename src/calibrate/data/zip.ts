/**
 * A minimal ZIP reader for .npz files (stored and deflated entries, ZIP64 sizes). The archive is
 * untrusted: every offset it states is checked against the file, and an entry is inflated only up
 * to the size its directory declares, so a 3 MB archive that inflates to 3 GB (a decompression
 * bomb) is refused by its declared size, or stopped at it when the directory lies.
 */
import { inflateRawSync } from 'node:zlib';
import { DataError } from '../../errors.js';
import { looksLikeText, textKind } from '../../sniff.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** Uncompressed size, as the central directory declares it. */
  size: number;
  localHeaderOffset: number;
}

function findEndOfCentralDirectory(dv: DataView): number {
  for (let i = dv.byteLength - 22; i >= Math.max(0, dv.byteLength - 65557); i--) if (dv.getUint32(i, true) === 0x06054b50) return i;
  return -1;
}

/** Reads little-endian fields, failing with a DataError (not a RangeError) past the end of the file. */
class Reader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, private readonly source: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(at: number, size: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + size > this.bytes.length) {
      throw new DataError(`${this.source}: corrupt .npz (a ZIP record points past the end of the file at ${at}); re-save it with np.savez`);
    }
  }

  u16(at: number): number { this.check(at, 2); return this.dv.getUint16(at, true); }
  u32(at: number): number { this.check(at, 4); return this.dv.getUint32(at, true); }
  u64(at: number): number {
    this.check(at, 8);
    const v = this.dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataError(`${this.source}: corrupt .npz (a ZIP64 size of ${v} bytes)`);
    return Number(v);
  }
  slice(at: number, length: number): Uint8Array { this.check(at, length); return this.bytes.subarray(at, at + length); }
}

export function listZip(bytes: Uint8Array, source: string): ZipEntry[] {
  const r = new Reader(bytes, source);
  const eocd = bytes.length >= 22 ? findEndOfCentralDirectory(r.dv) : -1;
  if (eocd < 0) {
    const what = looksLikeText(bytes) ? `this is ${textKind(bytes)}` : 'no ZIP directory: truncated, or another format';
    throw new DataError(`${source}: not a .npz file (${what}); save arrays with np.savez or np.savez_compressed`);
  }
  let count = r.u16(eocd + 10);
  let cdOffset = r.u32(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // ZIP64 end of central directory locator sits just before the EOCD.
    const loc = eocd - 20;
    if (loc >= 0 && r.u32(loc) === 0x07064b50) {
      const z64 = r.u64(loc + 8);
      count = r.u64(z64 + 32);
      cdOffset = r.u64(z64 + 48);
    }
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (r.u32(p) !== 0x02014b50) throw new DataError(`${source}: corrupt ZIP directory`);
    const method = r.u16(p + 10);
    let compressedSize = r.u32(p + 20);
    let size = r.u32(p + 24);
    const nameLen = r.u16(p + 28);
    const extraLen = r.u16(p + 30);
    const commentLen = r.u16(p + 32);
    let localHeaderOffset = r.u32(p + 42);
    const name = new TextDecoder().decode(r.slice(p + 46, nameLen));
    // ZIP64 extra field holds the 64-bit values that are 0xffffffff above, in this order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = r.u16(e);
      const len = r.u16(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = r.u64(q); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = r.u64(q); q += 8; }
        if (localHeaderOffset === 0xffffffff) { localHeaderOffset = r.u64(q); }
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p = end + commentLen;
  }
  return entries;
}

/**
 * An entry's bytes, at most `entry.size` of them: the inflater stops there, and an entry that
 * inflates to more or less than its directory declares is refused as corrupt.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, source: string): Uint8Array {
  const r = new Reader(bytes, source);
  const h = entry.localHeaderOffset;
  if (r.u32(h) !== 0x04034b50) throw new DataError(`${source}: corrupt ZIP entry ${entry.name}`);
  const start = h + 30 + r.u16(h + 26) + r.u16(h + 28);
  if (start + entry.compressedSize > bytes.length) throw new DataError(`${source}: truncated (entry ${entry.name})`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  const mismatch = (got: string) => new DataError(`${source}: corrupt entry ${entry.name}: its directory declares ${entry.size} bytes, but it holds ${got}`);
  if (entry.method === 0) {
    if (raw.length !== entry.size) throw mismatch(`${raw.length}`);
    return raw;
  }
  if (entry.method === 8) {
    let out: Buffer;
    try {
      // One byte more than declared, so an entry that inflates past its declared size is noticed.
      out = inflateRawSync(raw, { maxOutputLength: entry.size + 1 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw mismatch('more (it inflates past its declared size)');
      throw new DataError(`${source}: entry ${entry.name} cannot be decompressed (${(err as Error).message})`);
    }
    if (out.length !== entry.size) throw mismatch(`${out.length}`);
    return out;
  }
  throw new DataError(`${source}: entry ${entry.name} uses ZIP method ${entry.method}; save with np.savez or np.savez_compressed`);
}
