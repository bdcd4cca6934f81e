/**
 * Resolving `--target`: 'host' (the default) becomes the detected target; a named target is checked
 * and compared with the host to know whether this machine can time models for it.
 */
import { OptionError } from '../errors.js';
import type { Engine } from '../runtime/engine.js';
import { detectHardware } from './hardware.js';
import { classifyFlags, hostTargetName } from './host.js';
import { probeU8S8 } from './int8-probe.js';
import { TARGETS, TARGET_CHOICES, type TargetName, type TargetSpec } from './targets.js';

export interface Target extends TargetSpec {
  /** What the user asked for: 'host' or a target name. */
  requested: string;
  /** The host's own target (what this machine's kernels are). */
  host: TargetName;
  /**
   * This machine runs the target's kernels, so speed (and saturation) can be measured for it:
   * the host itself, or wasm (onnxruntime-web runs in Node on any machine).
   */
  measurable: boolean;
  /** How the host was established, for summaries: CPU, flags, and the measured u8 x s8 behaviour. */
  basis: string;
}

export function checkTargetName(name: string): string {
  if (!TARGET_CHOICES.includes(name)) throw new OptionError(`--target must be one of ${TARGET_CHOICES.join(', ')} (got '${name}')`);
  return name;
}

let hostCache: Promise<{ name: TargetName; basis: string }> | undefined;

/** The host's target: CPU flags, then the int8 probe on onnxruntime-node (cached per process). */
export function detectHostTarget(engine: Engine): Promise<{ name: TargetName; basis: string }> {
  hostCache ??= (async () => {
    const hw = detectHardware();
    const flagClass = classifyFlags(hw);
    if (!flagClass) throw new OptionError(`this machine (${hw.arch}) is neither x86-64 nor ARM64, which ONNX Runtime's CPU kernels need; pass --target to name the machine the model will run on`);
    const probe = await probeU8S8(engine);
    const name = hostTargetName(flagClass, probe.u8s8Exact);
    const sums = probe.u8s8Exact ? 'u8 x s8 sums measured exact' : `u8 x s8 sums measured saturating (${probe.measured} instead of ${probe.exact})`;
    const disagree = name !== flagClass ? `; the CPU flags say ${flagClass}, but ONNX Runtime's kernels behave as ${name} here (an emulator or hypervisor hides features from it)` : '';
    return { name, basis: `${hw.cpuModel}, ${sums}${disagree}` };
  })();
  hostCache.catch(() => { hostCache = undefined; });
  return hostCache;
}

/** Resolves a --target value ('host' or a name, default 'host') against this machine. */
export async function resolveTarget(requested: string | undefined, engine: Engine): Promise<Target> {
  const asked = checkTargetName(requested ?? 'host');
  const host = await detectHostTarget(engine);
  const name = asked === 'host' ? host.name : (asked as TargetName);
  const spec = TARGETS[name];
  return { ...spec, requested: asked, host: host.name, measurable: spec.runtime === 'wasm' || name === host.name, basis: host.basis };
}

/** One line for summaries: which target, and whether speed could be measured for it. */
export function describeTarget(t: Target): string {
  const which = t.requested === 'host' ? `${t.name} (this machine: ${t.basis})` : t.name === t.host ? `${t.name} (the same as this machine)` : `${t.name} (this machine is ${t.host})`;
  const arithmetic = t.u8s8Exact ? 'u8 x s8 sums exact' : 'u8 x s8 pairs saturate in int16: weights stored so that they cannot';
  return `target ${which}; ${arithmetic}`;
}
