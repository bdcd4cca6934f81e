/** What the machine offers int8 inference: CPU model and the instruction sets that matter. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem, arch, platform } from 'node:os';
import { ortVersion } from '../runtime/providers.js';

export interface HardwareInfo {
  cpuModel: string;
  cores: number;
  arch: string;
  platform: string;
  memoryBytes: number;
  /** Flags relevant to int8/fp16 kernels that this CPU has. */
  int8Flags: string[];
  /** VNNI (AVX-512 VNNI or AVX-VNNI) or ARM dot-product: int8 kernels do not saturate. */
  hasVnni: boolean;
  ortVersion: string;
  nodeVersion: string;
}

const X86_FLAGS = ['avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'avx_vnni_int8', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_int8', 'amx_bf16'];
const ARM_FLAGS = ['asimd', 'asimddp', 'i8mm', 'fphp', 'asimdhp', 'sve', 'sve2', 'bf16'];

/** Parses /proc/cpuinfo text (exported for tests). */
export function parseCpuFlags(cpuinfo: string): string[] {
  const line = /^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo);
  if (!line) return [];
  const have = new Set(line[2]!.trim().split(/\s+/));
  return [...X86_FLAGS, ...ARM_FLAGS].filter((f) => have.has(f));
}

export function detectHardware(): HardwareInfo {
  let flags: string[] = [];
  try {
    flags = parseCpuFlags(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    flags = [];
  }
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    arch: arch(),
    platform: platform(),
    memoryBytes: totalmem(),
    int8Flags: flags,
    hasVnni: flags.some((f) => f === 'avx512_vnni' || f === 'avx_vnni' || f === 'asimddp' || f === 'amx_int8'),
    ortVersion: ortVersion(),
    nodeVersion: process.version,
  };
}
