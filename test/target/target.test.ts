/** Targets: naming the host from its flags, measuring its int8 arithmetic, and resolving --target. */
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/runtime/engine.js';
import { OptionError } from '../../src/errors.js';
import { detectHardware } from '../../src/target/hardware.js';
import { classifyFlags, hostTargetName } from '../../src/target/host.js';
import { probeU8S8 } from '../../src/target/int8-probe.js';
import { checkTargetName, resolveTarget } from '../../src/target/resolve.js';
import { TARGETS } from '../../src/target/targets.js';
import { channelPairMax, channelsOverBudget } from '../../src/target/pair-budget.js';

const engine = new Engine({ intraOpThreads: 1 });
afterAll(() => engine.close());

describe('targets', () => {
  it('names the class of a CPU from its flags', () => {
    const x64 = (...f: string[]) => classifyFlags({ arch: 'x64', int8Flags: f });
    expect(x64('avx2', 'fma')).toBe('x86-avx2');
    expect(x64()).toBe('x86-avx2'); // SSE4-only CPUs saturate the same way
    expect(x64('avx2', 'avx512f', 'avx512bw')).toBe('x86-avx512');
    expect(x64('avx2', 'avx512bw', 'avx512_vnni')).toBe('x86-vnni');
    expect(x64('avx2', 'avx_vnni')).toBe('x86-vnni');
    expect(x64('avx2', 'avx512_vnni', 'amx_int8')).toBe('x86-amx');
    const arm = (...f: string[]) => classifyFlags({ arch: 'arm64', int8Flags: f });
    expect([arm('asimd'), arm('asimd', 'asimddp'), arm('asimd', 'asimddp', 'i8mm')]).toEqual(['arm64', 'arm64-dotprod', 'arm64-i8mm']);
    expect(classifyFlags({ arch: 'riscv64', int8Flags: [] })).toBeUndefined();
  });

  it('trusts the measured arithmetic over flags an emulator or hypervisor shows', () => {
    expect(hostTargetName('x86-vnni', true)).toBe('x86-vnni');
    expect(hostTargetName('x86-avx2', false)).toBe('x86-avx2');
    expect(hostTargetName('x86-vnni', false)).toBe('x86-avx512');
    expect(hostTargetName('x86-avx2', true)).toBe('x86-vnni');
  });

  it('measures this CPU: exact u8 x s8 sums exactly where its flags promise them', async () => {
    const probe = await probeU8S8(engine);
    expect(probe.exact).toBe(255 * 127 * 64);
    // Saturated, the kernel returns 32 pairs of 32767.
    expect([probe.exact, 32 * 32767]).toContain(probe.measured);
    const host = await resolveTarget(undefined, engine);
    expect(host.requested).toBe('host');
    expect(host.measurable).toBe(true);
    expect(host.u8s8Exact).toBe(probe.u8s8Exact);
    const flags = classifyFlags(detectHardware())!;
    expect(host.name).toBe(hostTargetName(flags, probe.u8s8Exact));
    expect(host.basis).toMatch(probe.u8s8Exact ? /u8 x s8 sums measured exact/ : /saturating \(\d+ instead of 2072640\)/);
  });

  it('resolves named targets and says whether this machine can time them', async () => {
    const host = await resolveTarget('host', engine);
    const other = host.name === 'x86-avx2' ? 'x86-vnni' : 'x86-avx2';
    const t = await resolveTarget(other, engine);
    expect(t.name).toBe(other);
    expect(t.u8s8Exact).toBe(TARGETS[other].u8s8Exact);
    expect(t.measurable).toBe(false);
    expect((await resolveTarget(host.name, engine)).measurable).toBe(true);
    expect((await resolveTarget('wasm', engine)).measurable).toBe(true);
    expect(() => checkTargetName('x86-avx3')).toThrow(OptionError);
    expect(() => checkTargetName('x86-avx3')).toThrow(/--target must be one of host, x86-avx2, .*wasm \(got 'x86-avx3'\)/);
  });

  it('bounds the worst int16 pair of a channel whatever the kernel pairs', () => {
    // [2 channels x 4]: channel 0 has 100 and 60 (same sign), channel 1 has 127 and -127 (mixed).
    const w = Int8Array.from([100, 1, 60, -5, 127, -127, 1, -1]);
    expect(Array.from(channelPairMax(w, [2, 4], 0))).toEqual([160, 128]);
    expect(channelsOverBudget(w, [2, 4], 0)).toBe(1);
    // Axis 1 of a [K, N] matrix: the columns are the channels.
    expect(Array.from(channelPairMax(Int8Array.from([64, -1, 64, -127]), [2, 2], 1))).toEqual([128, 128]);
  });
});
