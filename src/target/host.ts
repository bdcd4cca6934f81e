/**
 * Which target this machine is. The CPU flags name the class; whether ONNX Runtime's u8 x s8 sums
 * saturate is then measured (int8-probe.ts), because that is what the arithmetic depends on and a
 * hypervisor or emulator can list features that ORT's kernel dispatch does not get to use.
 */
import type { HardwareInfo } from './hardware.js';
import { TARGETS, type TargetName } from './targets.js';

/** The target class named by the CPU flags alone (undefined for CPUs ONNX Runtime does not run on). */
export function classifyFlags(hw: Pick<HardwareInfo, 'arch' | 'int8Flags'>): TargetName | undefined {
  const has = (f: string) => hw.int8Flags.includes(f);
  if (hw.arch === 'x64') {
    if (has('amx_int8')) return 'x86-amx';
    if (has('avx512_vnni') || has('avx_vnni')) return 'x86-vnni';
    if (has('avx512bw')) return 'x86-avx512';
    return 'x86-avx2';
  }
  if (hw.arch === 'arm64') {
    if (has('i8mm')) return 'arm64-i8mm';
    if (has('asimddp')) return 'arm64-dotprod';
    return 'arm64';
  }
  return undefined;
}

/**
 * The host's target given the flags and the measured behaviour of its int8 kernels. When they
 * disagree the measurement wins, with the class that has that behaviour.
 */
export function hostTargetName(flagClass: TargetName, u8s8ExactMeasured: boolean): TargetName {
  if (TARGETS[flagClass].u8s8Exact === u8s8ExactMeasured) return flagClass;
  if (TARGETS[flagClass].arch !== 'x64') return flagClass; // ARM kernels widen; a saturating probe there would be an ORT bug
  return u8s8ExactMeasured ? 'x86-vnni' : flagClass === 'x86-avx2' ? 'x86-avx2' : 'x86-avx512';
}
