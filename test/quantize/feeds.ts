/** Test helper: deterministic inputs for every fixture model (trained, synthetic, third-party). */
import { join } from 'node:path';
import type { Feeds } from '../../src/runtime/types.js';
import { Rng } from '../../fixtures/synthetic/random.js';
import { sampleFeeds } from '../../fixtures/synthetic/models.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { FIXTURES, SYNTHETIC, THIRD_PARTY, TRAINED } from '../helpers.js';

export interface FixtureCase {
  name: string;
  path: string;
  feeds: () => Feeds;
}

/**
 * A text-like picture for the OCR models: lines of dark glyph-sized blocks on white, normalized as
 * PaddleOCR does ((x - mean) / std per channel), so the detector sees text rather than noise.
 */
function textImage(seed: number, H: number, W: number, lines: number): Feeds[string] {
  const rng = new Rng(seed);
  const px = new Float32Array(H * W).fill(1);
  const lineHeight = Math.floor(H / lines);
  for (let line = 0; line < lines; line++) {
    const y0 = line * lineHeight + Math.floor(lineHeight / 4);
    const glyph = Math.min(14, Math.floor(lineHeight / 2));
    for (let x = 8; x < W - 14;) {
      const w = 6 + rng.int(6);
      for (let y = y0; y < y0 + glyph; y++) for (let xx = x; xx < x + w; xx++) if (rng.next() < 0.8) px[y * W + xx] = 0.05;
      x += w + 3;
    }
  }
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const data = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let i = 0; i < H * W; i++) data[c * H * W + i] = (px[i]! - mean[c]!) / std[c]!;
  return { type: 'float32', dims: [1, 3, H, W], data };
}

/** A sine sweep with noise: speech-band energy for the voice-activity models. */
function audio(samples: number): Feeds[string] {
  const rng = new Rng(11);
  const data = new Float32Array(samples);
  for (let i = 0; i < samples; i++) data[i] = 0.3 * Math.sin((2 * Math.PI * (200 + i) * i) / 16000) + 0.02 * rng.normal();
  return { type: 'float32', dims: [1, samples], data };
}

const sr: Feeds[string] = { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) };

function testImages(count: number): Feeds {
  const data = new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz'));
  const x = data.array('input');
  const per = x.dims.slice(1).reduce((a, b) => a * b, 1);
  return { input: { type: 'float32', dims: [count, ...x.dims.slice(1)], data: (x.data as Float32Array).slice(0, count * per) } };
}

export const TRAINED_CASES: FixtureCase[] = ['resnet_bn', 'mobilenet_dw', 'vit_tiny', 'resnet_bn_opset11'].map((name) => ({
  name, path: join(TRAINED, `${name}.onnx`), feeds: () => testImages(16),
}));

export const SYNTHETIC_CASES: FixtureCase[] = ['conv_block', 'convtranspose_resize', 'transformer_block', 'lstm', 'if_branch'].map((name) => ({
  name, path: join(SYNTHETIC, `${name}.onnx`), feeds: () => sampleFeeds(name, 2),
}));

export const THIRD_PARTY_CASES: FixtureCase[] = [
  { name: 'ocr-cls', path: THIRD_PARTY.ocrCls(), feeds: () => ({ x: textImage(1, 48, 192, 1) }) },
  { name: 'ocr-det', path: THIRD_PARTY.ocrDet(), feeds: () => ({ x: textImage(2, 96, 160, 3) }) },
  { name: 'ocr-rec', path: THIRD_PARTY.ocrRec(), feeds: () => ({ x: textImage(3, 48, 160, 1) }) },
  {
    name: 'silero-v4', path: THIRD_PARTY.sileroV4(), feeds: () => ({
      input: audio(512), sr,
      h: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
      c: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
    }),
  },
  {
    name: 'silero-op18', path: THIRD_PARTY.sileroOp18(), feeds: () => ({
      input: audio(512), sr, state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
    }),
  },
];

export const ALL_CASES = [...TRAINED_CASES, ...SYNTHETIC_CASES, ...THIRD_PARTY_CASES];
