/**
 * --quiet, --verbose and progress, as a user sees them: --quiet prints only errors and still writes
 * the files; --verbose prints progress as plain lines when stderr is not a terminal; on a terminal
 * progress is one line rewritten in place (run under script(1), which gives the process a TTY).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, TRAINED, slimnet, slimnetCommandLine, slimnetEnv } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'slimnet-levels-'));
const resnet = join(TRAINED, 'resnet_bn.onnx');
const vit = join(TRAINED, 'vit_tiny.onnx');
const calib = join(FIXTURES, 'data', 'fmnist_calib.npz');
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('--quiet and --verbose', () => {
  it('--quiet prints nothing but still writes the output files', () => {
    const ranges = join(dir, 'ranges.json');
    const c = slimnet(['calibrate', resnet, '--calib', calib, '--calib-size', '16', '-o', ranges, '--quiet']);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe('');
    expect(c.stderr).toBe('');
    expect(existsSync(ranges)).toBe(true);
    const q = slimnet(['quantize', vit, '-o', join(dir, 'vit.dyn.onnx'), '--mode', 'dynamic', '-q']);
    expect([q.code, q.stdout, q.stderr]).toEqual([0, '', '']);
    expect(existsSync(join(dir, 'vit.dyn.onnx'))).toBe(true);
  });

  it('--quiet still reports errors, as one line with the exit code', () => {
    const r = slimnet(['eval', resnet, join(dir, 'missing.onnx'), '--data', calib, '--no-speed', '-q']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/missing\.onnx/);
  });

  it('--verbose prints progress as plain lines when stderr is not a terminal; the default prints none', () => {
    const v = slimnet(['calibrate', resnet, '--calib', calib, '--calib-size', '16', '-o', join(dir, 'r2.json'), '--verbose']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/Ranges written to/);
    const lines = v.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^calibrate 0\/16 \(0%\)$/);
    expect(lines.at(-1)).toMatch(/^calibrate 16\/16 \(100%\)$/);
    expect(v.stderr).not.toMatch(/\r|\x1b/);
    const plain = slimnet(['calibrate', resnet, '--calib', calib, '--calib-size', '16', '-o', join(dir, 'r3.json')]);
    expect(plain.stderr).toBe('');
  });

  it('--quiet with --verbose is a usage error', () => {
    const r = slimnet(['prune', resnet, '-o', join(dir, 'p.onnx'), '--sparsity', '0.5', '-q', '-v']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('slimnet: --quiet and --verbose contradict each other: give one');
    expect(existsSync(join(dir, 'p.onnx'))).toBe(false);
  });

  it.skipIf(!hasScript)('on a terminal, progress is one line rewritten in place with stage and percent', () => {
    const cmd = slimnetCommandLine(['calibrate', resnet, '--calib', calib, '--calib-size', '32', '-o', join(dir, 'r4.json')]);
    const r = spawnSync('script', ['-qec', `${cmd} > /dev/null`, '/dev/null'], { encoding: 'utf8', env: slimnetEnv(), timeout: 120_000 });
    expect(r.status).toBe(0);
    // Everything the terminal got is progress: rewritten with \r + erase-line, never a new line.
    expect(r.stdout).toMatch(/\r\x1b\[2Kcalibrate \d+\/32 \(\d+%\)/);
    expect(r.stdout).toMatch(/\(100%\)/);
    expect(r.stdout).not.toMatch(/\n/);
    expect(r.stdout.endsWith('\r\x1b[2K')).toBe(true);
    const quiet = spawnSync('script', ['-qec', `${cmd} --quiet`, '/dev/null'], { encoding: 'utf8', env: slimnetEnv(), timeout: 120_000 });
    expect([quiet.status, quiet.stdout]).toEqual([0, '']);
  });
});
