/**
 * The wizard with a directory of images: the preprocessing prompt (a preset, or size, mean/std and
 * layout), its answers checked, and a run that evaluates on the images as preprocessed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TRAINED } from '../helpers.js';
import { KEY, unsetCi, unwrap, waitFor } from './frames.js';
import { parseMeanStd, parseSize, describePreprocess, isImageDir } from '../../cli/wizard/preprocess.js';

unsetCi();
const { render } = await import('ink-testing-library');
const { App } = await import('../../cli/wizard/app.js');

const dir = mkdtempSync(join(tmpdir(), 'slimnet-wizard-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pause = (ms = 60) => new Promise((r) => setTimeout(r, ms));

/** Two classes of grey 32x32 PNGs: class 0 dark, class 1 bright (the crop takes their centre). */
async function imageDir(): Promise<string> {
  const root = join(dir, 'images');
  for (const [c, level] of [['a', 20], ['b', 230]] as const) {
    mkdirSync(join(root, c), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const px = Buffer.alloc(32 * 32, level + i);
      await sharp(px, { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(join(root, c, `${i}.png`));
    }
  }
  return root;
}

describe('wizard: image preprocessing', () => {
  it('parses the answers, or says what is wrong', () => {
    expect(parseSize('256/224')).toEqual({ resize: 256, crop: [224, 224] });
    expect(parseSize('28')).toEqual({ crop: [28, 28] });
    expect(parseSize('')).toEqual({});
    expect(parseSize('100/224')).toMatch(/the resize \(100\) must be at least the crop/);
    expect(parseSize('big')).toMatch(/give the size as CROP/);
    expect(parseMeanStd('0.485,0.456,0.406 / 0.229,0.224,0.225')).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(parseMeanStd('0.5 / 0')).toMatch(/give MEAN \/ STD/);
    expect(describePreprocess({ resize: 256, crop: [224, 224], mean: [0.5], std: [0.5], layout: 'NHWC' })).toBe('256/224 mean/std NHWC');
  });

  it('asks how to preprocess an image directory, and evaluates on the images so preprocessed', async () => {
    const images = await imageDir();
    expect(isImageDir(images)).toBe(true);
    expect(isImageDir(TRAINED)).toBe(false);
    const exits: number[] = [];
    const app = render(createElement(App, { onExit: (code: number) => { exits.push(code); } }));
    const type = async (...keys: string[]) => { for (const k of keys) { app.stdin.write(k); await pause(); } };
    const frame = (re: RegExp, ms?: number) => waitFor(app.lastFrame, re, ms);
    await type(join(TRAINED, 'resnet_bn.onnx'), KEY.enter);
    await frame(/Continue with this model/);
    await type(KEY.enter);
    await frame(/What should the result be\?/);
    await type(KEY.down, KEY.down, KEY.down, KEY.enter); // dynamic: evaluation data only
    await frame(/Evaluation data/);
    await type(KEY.enter);
    await frame(/data\.npz/); // the path prompt is up
    await type(images, KEY.enter);
    expect(await frame(/how should pixels become the model's input\?/)).toMatch(/> Pixels in \[0, 1\]/);
    await type(KEY.down, KEY.down, KEY.down, KEY.enter); // Custom
    await frame(/Size: CROP/);
    await type('huge', KEY.enter);
    await frame(/x give the size as CROP/);
    await type(KEY.ctrlU, '28', KEY.enter);
    await frame(/Mean \/ std after scaling/);
    await type('0.5 / 0.5', KEY.enter);
    await frame(/Layout: the model's/);
    await type(KEY.enter);
    const review = await frame(/step 4\/6: Review/);
    expect(review).toMatch(/images +28 mean\/std +resize, crop, scale/);
    await type(KEY.down, KEY.enter, KEY.ctrlU, join(dir, 'out.onnx'), KEY.enter);
    await frame(/> Run/);
    await type(KEY.enter);
    const result = await frame(/step 6\/6: Result/, 120_000);
    // 8 labelled images went through the model: top-1 of both models is measured on them.
    expect(result).toMatch(/top1 +\d+\.\d\d % +\d+\.\d\d %/);
    // The command line cannot preprocess images in quantize: the note says so and gives the steps.
    expect(unwrap(result)).toContain(`--preprocess '{"scale":0.00392156862745098,"crop":[28,28],"mean":[0.5],"std":[0.5]}' of slimnet calibrate and eval`);
    app.unmount();
    expect(exits).toEqual([]);
  });
});
