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

const image = (rng: Rng, dims: number[]): Feeds[string] => ({ type: 'float32', dims, data: rng.uniforms(dims.reduce((a, b) => a * b, 1), -1, 1) });

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
  { name: 'ocr-cls', path: THIRD_PARTY.ocrCls(), feeds: () => ({ x: image(new Rng(1), [1, 3, 48, 192]) }) },
  { name: 'ocr-det', path: THIRD_PARTY.ocrDet(), feeds: () => ({ x: image(new Rng(2), [1, 3, 64, 64]) }) },
  { name: 'ocr-rec', path: THIRD_PARTY.ocrRec(), feeds: () => ({ x: image(new Rng(3), [1, 3, 48, 160]) }) },
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
