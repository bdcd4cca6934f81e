/**
 * `npm run test:sigint`: interrupts quantize, calibrate, eval and bench with SIGINT at 20 points
 * each, spread over the time a normal run takes, and checks every trial: exit code 130, no native
 * abort ("terminate called", "Napi::Error", SIGABRT), no output and no temporary file left, the
 * inputs unchanged. Prints n/20 per command; exits 1 if any trial failed.
 *
 *   npm run test:sigint                   # 20 trials per command
 *   npm run test:sigint -- --trials 5 --only quantize
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'slimnet.js');
const MODEL = join(ROOT, 'fixtures', 'models', 'resnet_bn.onnx');
const CALIB = join(ROOT, 'fixtures', 'data', 'fmnist_calib.npz');
const TEST = join(ROOT, 'fixtures', 'data', 'fmnist_test.npz');

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

function run(args: string[], interruptAfterMs?: number): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, SLIMNET_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = interruptAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function hash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface Command {
  name: string;
  /** Arguments, writing into `out`. */
  args: (out: string) => string[];
}

function commands(work: string): Command[] {
  const int8 = join(work, 'resnet_bn.int8.onnx');
  return [
    { name: 'quantize', args: (out) => ['quantize', MODEL, '-o', join(out, 'q.onnx'), '--calib', CALIB, '--plan-out', join(out, 'plan.json')] },
    { name: 'calibrate', args: (out) => ['calibrate', MODEL, '--calib', TEST, '--method', 'entropy', '-o', join(out, 'ranges.json')] },
    { name: 'eval', args: (out) => ['eval', MODEL, int8, '--data', TEST, '--limit', '2000', '--report', join(out, 'report.html')] },
    { name: 'bench', args: () => ['bench', MODEL, int8, '--runs', '300'] },
  ];
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const trials = Number(option('--trials') ?? 20);
  const only = option('--only');
  const work = mkdtempSync(join(tmpdir(), 'slimnet-sigint-'));
  const inputs = [MODEL, CALIB, TEST];
  const before = inputs.map(hash);
  const prep = await run(['quantize', MODEL, '-o', join(work, 'resnet_bn.int8.onnx'), '--calib', CALIB, '--calib-size', '100', '--placement', 'full']);
  if (prep.code !== 0) throw new Error(`could not prepare the int8 model: ${prep.stderr}`);
  let failed = 0;
  for (const cmd of commands(work).filter((c) => !only || c.name === only)) {
    const out = join(work, `out-${cmd.name}`);
    rmSync(out, { recursive: true, force: true });
    // How long a normal run takes here: the trials are spread over it.
    mkdirSync(out);
    const full = await run(cmd.args(out));
    if (full.code !== 0) throw new Error(`${cmd.name} fails without an interrupt: ${full.stderr}`);
    rmSync(out, { recursive: true, force: true });
    let ok = 0;
    const early: number[] = [];
    const problems: string[] = [];
    for (let i = 0; i < trials; i++) {
      mkdirSync(out);
      // From just after start-up to the end of the run, evenly, each trial a little off the grid.
      let at = Math.round(300 + ((0.95 * full.ms - 300) * (i + 0.5 * Math.random())) / trials);
      let r = await run(cmd.args(out), at);
      // A run that had finished before the signal (this machine is shared; timings vary) is no trial:
      // exit 0, or printed its result and was ending (Node's teardown, when no handler runs any more).
      const finished = (x: Run) => x.code === 0 || (x.signal === 'SIGINT' && x.stdout.trim() !== '' && x.stderr === '');
      for (let retry = 0; retry < 5 && finished(r); retry++) {
        rmSync(out, { recursive: true, force: true });
        mkdirSync(out);
        at = Math.round(at * 0.8);
        r = await run(cmd.args(out), at);
      }
      const left = readdirSync(out);
      const abort = /terminate called|Napi::|Aborted|core dumped/.test(r.stderr) || r.signal === 'SIGABRT';
      // Before bin/slimnet.js runs its first line (Node still starting), SIGINT's default action ends
      // the process: no handler, nothing written yet; a shell reports 130 all the same.
      const beforeStart = r.signal === 'SIGINT' && r.stderr === '' && r.stdout === '';
      if (beforeStart) early.push(at);
      if ((r.code === 130 || beforeStart) && !abort && left.length === 0) ok++;
      else problems.push(`  SIGINT at ${at} ms: exit ${r.code ?? r.signal}${abort ? ', native abort' : ''}${left.length ? `, left ${left.join(', ')}` : ''}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      rmSync(out, { recursive: true, force: true });
    }
    failed += trials - ok;
    const note = early.length ? `; ${early.length} of them (at ${early.join(', ')} ms) while Node was still starting, ended by the signal itself (status 130 in a shell)` : '';
    process.stdout.write(`${cmd.name}: ${ok}/${trials} exited 130 cleanly (a normal run takes ${(full.ms / 1000).toFixed(1)} s${note})\n${problems.join('\n')}${problems.length ? '\n' : ''}`);
  }
  const changed = inputs.filter((p, i) => hash(p) !== before[i]);
  if (changed.length) { process.stdout.write(`inputs changed: ${changed.join(', ')}\n`); failed++; }
  rmSync(work, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

await main();
