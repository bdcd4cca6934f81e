/** .npz archives: named arrays, read on demand. */
import { deflateRawSync } from 'node:zlib';
import type { TensorData } from '../../runtime/types.js';
import { DataError } from '../../errors.js';
import { listZip, readZipEntry, type ZipEntry } from './zip.js';
import { encodeNpy, parseNpy } from './npy.js';
import { checkDataSize, dataLimitBytes, readDataFile } from './read-file.js';

export class NpzFile {
  private readonly entries = new Map<string, ZipEntry>();
  private readonly cache = new Map<string, TensorData>();
  /** Decompressed bytes of the arrays read so far: all of them stay in memory, so all count. */
  private inflated = 0;

  constructor(private readonly bytes: Uint8Array, readonly source: string, private readonly limit = dataLimitBytes()) {
    for (const e of listZip(bytes, source)) this.entries.set(e.name.replace(/\.npy$/, ''), e);
  }

  static open(path: string): NpzFile {
    return new NpzFile(readDataFile(path), path);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): TensorData {
    let t = this.cache.get(name);
    if (!t) {
      const e = this.entries.get(name);
      if (!e) throw new DataError(`${this.source}: no array named '${name}' (it has: ${this.names.join(', ')})`);
      // Checked against the declared size before inflating: a bomb is refused without being expanded.
      checkDataSize(this.source, `array '${name}' decompressed${this.inflated ? ' (with the arrays read before it)' : ''}`, this.inflated + e.size, this.limit);
      t = parseNpy(readZipEntry(this.bytes, e, this.source), `${this.source}:${name}`);
      this.inflated += e.size;
      this.cache.set(name, t);
    }
    return t;
  }
}

/** Writes arrays as a compressed .npz (what np.savez_compressed produces). */
export function encodeNpz(arrays: Record<string, TensorData>): Uint8Array {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(arrays)) {
    const file = Buffer.from(`${name}.npy`);
    const raw = encodeNpy(t);
    const comp = deflateRawSync(raw);
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(raw.length, 22); local.writeUInt16LE(file.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc, 16); cd.writeUInt32LE(comp.length, 20); cd.writeUInt32LE(raw.length, 24); cd.writeUInt16LE(file.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, file, comp);
    central.push(cd, file);
    offset += 30 + file.length + comp.length;
  }
  const cdSize = central.reduce((s, b) => s + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(arrays).length, 8);
  eocd.writeUInt16LE(Object.keys(arrays).length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, eocd]);
}

let crcTable: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
