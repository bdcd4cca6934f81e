/** A minimal ZIP reader for .npz files (stored and deflated entries, ZIP64 sizes). */
import { inflateRawSync } from 'node:zlib';
import { DataError } from '../../errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function findEndOfCentralDirectory(dv: DataView): number {
  for (let i = dv.byteLength - 22; i >= Math.max(0, dv.byteLength - 65557); i--) if (dv.getUint32(i, true) === 0x06054b50) return i;
  return -1;
}

export function listZip(bytes: Uint8Array, source: string): ZipEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(dv);
  if (eocd < 0) throw new DataError(`${source}: not a .npz file (no ZIP directory; truncated or another format)`);
  let count = dv.getUint16(eocd + 10, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // ZIP64 end of central directory locator sits just before the EOCD.
    const loc = eocd - 20;
    if (loc >= 0 && dv.getUint32(loc, true) === 0x07064b50) {
      const z64 = Number(dv.getBigUint64(loc + 8, true));
      count = Number(dv.getBigUint64(z64 + 32, true));
      cdOffset = Number(dv.getBigUint64(z64 + 48, true));
    }
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new DataError(`${source}: corrupt ZIP directory`);
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field holds the 64-bit values that are 0xffffffff above, in this order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(dv.getBigUint64(q, true)); q += 8; }
        if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(dv.getBigUint64(q, true)); }
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p = end + commentLen;
  }
  return entries;
}

export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, source: string): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = entry.localHeaderOffset;
  if (dv.getUint32(h, true) !== 0x04034b50) throw new DataError(`${source}: corrupt ZIP entry ${entry.name}`);
  const start = h + 30 + dv.getUint16(h + 26, true) + dv.getUint16(h + 28, true);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  if (raw.length < entry.compressedSize) throw new DataError(`${source}: truncated (entry ${entry.name})`);
  if (entry.method === 0) return raw;
  if (entry.method === 8) {
    try {
      return inflateRawSync(raw);
    } catch (err) {
      throw new DataError(`${source}: entry ${entry.name} cannot be decompressed (${(err as Error).message})`);
    }
  }
  throw new DataError(`${source}: entry ${entry.name} uses ZIP method ${entry.method}; save with np.savez or np.savez_compressed`);
}
