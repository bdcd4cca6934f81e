/**
 * slimnet as a user installs it: `npm pack` (the prepare script builds dist/), the tarball installed
 * offline into an empty project, then the API imported from 'slimnet' (ESM, types, CommonJS
 * require), the `slimnet` command through npx, and the README's API examples, type-checked and run
 * as written. The installed package has no TypeScript toolchain: it runs dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES, ROOT, TRAINED } from '../helpers.js';
import { childEnv, installApp, npmUnavailable, packProject, run, type Packed } from './pack.js';
import { apiExamples, quickStartLines } from './readme.js';
import { Terminal, tmuxUnavailable } from '../wizard/tmux.js';
import { VERSION } from '../../src/version.js';
import { loadModel } from '../../src/onnx/io.js';

const unavailable = npmUnavailable();
if (unavailable) console.warn(`skipping the packed-tarball tests: ${unavailable}`);

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const SETUP_MS = 20 * 60_000;

describe.skipIf(unavailable !== undefined)('the packed tarball, installed into an empty project', () => {
  let dir: string;
  let app: string;
  let packed: Packed;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimnet-pack-'));
    packed = packProject(dir);
    app = join(dir, 'app');
    installApp(app, packed.tarball);
  }, SETUP_MS);
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const node = (args: string[], timeout = 300_000) => spawnSync(process.execPath, args, { cwd: app, env: childEnv(), encoding: 'utf8', timeout });

  it('holds compiled JavaScript with declarations, and no TypeScript sources', () => {
    for (const f of ['package.json', 'bin/slimnet.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/cli/index.js', 'dist/src/runtime/worker.js', 'README.md']) {
      expect(packed.files, f).toContain(f);
    }
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.files.filter((f) => /^(test|fixtures|bench|docs)\//.test(f))).toEqual([]);
    const installed = join(app, 'node_modules', 'slimnet');
    expect(existsSync(join(installed, 'dist', 'src', 'index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
  });

  it('quantizes a model through the API (ESM) and runs it on the worker', () => {
    const out = join(app, 'vit.dyn.onnx');
    writeFileSync(join(app, 'dynamic.mjs'), `
import { loadModel, quantize, saveModel, Engine, VERSION } from 'slimnet';
const stages = new Set();
const model = loadModel(${JSON.stringify(join(TRAINED, 'vit_tiny.onnx'))});
const r = await quantize(model, { mode: 'dynamic', onProgress: (e) => stages.add(e.stage) });
saveModel(r.model, ${JSON.stringify(out)});
const engine = new Engine({ intraOpThreads: 1 });
const session = await engine.createSession(r.model);
const input = session.info.inputNames[0];
const y = await session.run({ [input]: { type: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.5) } });
await engine.close();
console.log(JSON.stringify({ VERSION, quantized: r.summary.quantized.length, dims: Object.values(y)[0].dims }));
`);
    const r = node(['dynamic.mjs']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { VERSION: string; quantized: number; dims: number[] };
    expect(res.VERSION).toBe(VERSION);
    expect(res.quantized).toBeGreaterThan(0);
    expect(res.dims).toEqual([1, 10]);
    const ops = loadModel(out).graph.nodes.map((n) => n.opType);
    expect(ops).toContain('DynamicQuantizeMatMul');
  });

  it('is found by require() too', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major === 20 && minor < 19) {
      console.warn(`skipping require('slimnet'): Node ${process.versions.node} cannot require ES modules (20.19 and newer can)`);
      return;
    }
    const r = node(['-e', "const s = require('slimnet'); console.log(typeof s.loadModel, typeof s.quantize, s.VERSION)"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`function function ${VERSION}`);
  });

  it('runs the slimnet command through npx', () => {
    const version = run('npx', ['--offline', 'slimnet', '--version'], app);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const inspect = run('npx', ['--offline', 'slimnet', 'inspect', join(TRAINED, 'resnet_bn.onnx'), '--json'], app);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).schema).toBe('slimnet.inspect/1');
    const bad = run('npx', ['--offline', 'slimnet', 'quantize', join(app, 'missing.onnx'), '-o', join(app, 'x.onnx'), '--mode', 'dynamic'], app);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^slimnet: .*missing\.onnx/m);
  });

  it('opens the wizard (compiled JSX, React and Ink from the tarball) in a terminal, and refuses without one', async () => {
    const piped = run('npx', ['--offline', 'slimnet', 'wizard'], app);
    expect(piped.status).toBe(2);
    expect(piped.stderr).toMatch(/^slimnet: the wizard needs an interactive terminal/m);
    const noTmux = tmuxUnavailable();
    if (noTmux) return console.warn(`skipping the installed wizard in a terminal: ${noTmux}`);
    const t = new Terminal(`${join(app, 'node_modules', '.bin', 'slimnet')} wizard ${join(TRAINED, 'vit_tiny.onnx')}; echo "EXIT=$?"; sleep 600`, app);
    try {
      await t.waitFor(/Which ONNX model\?/);
      t.keys(['Enter']);
      expect(await t.waitFor(/Continue with this model/)).toMatch(/151 nodes/);
      t.keys(['C-c']);
      await t.waitFor(/EXIT=130/);
    } finally {
      t.close();
    }
  });

  it("type-checks and runs the README's API examples as written", () => {
    const blocks = apiExamples();
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const ex = join(app, 'readme');
    mkdirSync(ex);
    copyFileSync(join(TRAINED, 'resnet_bn.onnx'), join(ex, 'model.onnx'));
    copyFileSync(join(FIXTURES, 'data', 'fmnist_calib.npz'), join(ex, 'calib.npz'));
    copyFileSync(join(FIXTURES, 'data', 'fmnist_test.npz'), join(ex, 'test.npz'));
    const names = blocks.map((code, i) => {
      writeFileSync(join(ex, `example${i + 1}.ts`), code);
      return `example${i + 1}`;
    });
    // The types come from the installed package (its exports); @types/node from slimnet's checkout.
    writeFileSync(join(ex, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, lib: ['ES2022'],
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')], outDir: 'js', skipLibCheck: true,
      },
      include: ['*.ts'],
    }));
    const tsc = node([TSC, '-p', join(ex, 'tsconfig.json')], 300_000);
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    for (const name of names) {
      const r = spawnSync(process.execPath, [join(ex, 'js', `${name}.js`)], { cwd: ex, env: childEnv(), encoding: 'utf8', timeout: 600_000 });
      expect(r.status, `${name}:\n${blocks[names.indexOf(name)]}\n${r.stderr}`).toBe(0);
    }
    for (const f of ['copy.onnx', 'ranges.json', 'model.int8.onnx', 'model.dyn.onnx', 'model.int4.onnx', 'model.fp16.onnx', 'model.sparse.onnx', 'model.pruned.onnx']) expect(existsSync(join(ex, f)), f).toBe(true);
    const ranges = JSON.parse(readFileSync(join(ex, 'ranges.json'), 'utf8')) as { method: string };
    expect(ranges.method).toBe('entropy');
    // The quick start's one-liners (CLI and API), run by a shell in the same directory.
    const lines = quickStartLines();
    expect(lines).toHaveLength(2);
    for (const f of ['model.int8.onnx', 'model.dyn.onnx']) rmSync(join(ex, f));
    for (const line of lines) {
      const r = spawnSync('bash', ['-c', line], { cwd: ex, env: childEnv(), encoding: 'utf8', timeout: 600_000 });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
    }
    for (const f of ['model.int8.onnx', 'model.dyn.onnx']) expect(existsSync(join(ex, f)), f).toBe(true);
  }, 30 * 60_000);
});
