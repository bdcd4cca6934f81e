/**
 * ONNX Runtime on an emulated x86 CPU without AVX-512 and VNNI, on any x86-64 machine: qemu-user
 * (Debian's qemu-user, installed by .ci/run) runs node with a Haswell CPU model, so MLAS dispatches
 * to its AVX2 kernels, whose u8 x s8 sums saturate in int16 exactly as on such hardware. About 20x
 * slower than native: for small models and a few samples. Times measured there mean nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Feeds, TensorData } from '../../src/runtime/types.js';

const RUNNER = fileURLToPath(new URL('./ort-run.mjs', import.meta.url));
const CPU = 'Haswell-noTSX';

function findQemu(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v qemu-x86_64'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const qemu = process.arch === 'x64' ? findQemu() : undefined;

/** Why emulated runs are not possible here (undefined when they are). */
export const emulationUnavailable: string | undefined = process.arch !== 'x64'
  ? `x86 emulation needs an x86-64 host (this is ${process.arch})`
  : qemu ? undefined : 'qemu-x86_64 is not installed (apt-get install qemu-user; .ci/run installs it)';

function toJob(model: string, feeds: Feeds, config?: Record<string, string>): string {
  const f: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(feeds)) {
    const d = v.data as ArrayBufferView;
    f[k] = { type: v.type, dims: v.dims, base64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') };
  }
  return JSON.stringify({ model, feeds: f, ...(config ? { config } : {}) });
}

/**
 * Runs `model` on `feeds` in onnxruntime-node, emulated (x86 without VNNI) or, with `native`, on
 * this CPU in a plain process. Returns the outputs as float32 tensors.
 */
export function runOrt(model: string, feeds: Feeds, options: { emulated: boolean; config?: Record<string, string> }): Record<string, TensorData> {
  const dir = mkdtempSync(join(tmpdir(), 'slimnet-emu-'));
  try {
    const job = join(dir, 'job.json');
    writeFileSync(job, toJob(model, feeds, options.config));
    const cmd = options.emulated ? [qemu!, ['-cpu', CPU, process.execPath, RUNNER, job]] as const : [process.execPath, [RUNNER, job]] as const;
    const r = spawnSync(cmd[0], [...cmd[1]], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${options.emulated ? 'emulated ' : ''}run of ${model} failed (${r.status}): ${r.stderr.split('\n').filter((l) => !/TCG doesn't support/.test(l)).join('\n').slice(0, 2000)}`);
    const parsed = JSON.parse(r.stdout) as Record<string, { type: string; dims: number[]; values: number[] }>;
    const out: Record<string, TensorData> = {};
    for (const [k, v] of Object.entries(parsed)) out[k] = { type: 'float32', dims: v.dims, data: Float32Array.from(v.values) };
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
