/**
 * A directory of images (JPEG, PNG, WebP, ...) decoded with sharp and preprocessed as declared:
 * resize (shorter side), centre crop, scale, mean/std, channel order, layout. Images directly in
 * the directory are unlabeled; images in subdirectories are labeled by class (subdirectory names
 * in sorted order, as torchvision's ImageFolder does).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { TensorData } from '../../runtime/types.js';
import { DataError, OptionError } from '../../errors.js';
import { FileDataset, naturalSort, type Sample } from './file-dataset.js';
import type { InputSpec } from './model-inputs.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

export interface ImagePreprocess {
  /** Resize so the shorter side has this many pixels, keeping the aspect ratio (default: just cover the crop). */
  resize?: number;
  /** Centre crop [height, width] (default: the model input's spatial size). */
  crop?: [number, number];
  /** Pixel values (0..255) are multiplied by this first (default 1/255). */
  scale?: number;
  /** Per-channel mean subtracted and std divided after scaling (default 0 and 1). */
  mean?: number[];
  std?: number[];
  /** Channel order the model expects (default RGB). */
  channels?: 'RGB' | 'BGR';
  /** Layout of the model input (default: where its axis of size 1 or 3 is). */
  layout?: 'NCHW' | 'NHWC';
}

/** Named preprocessing recipes for `--preprocess NAME`. */
export const PREPROCESS_PRESETS: Record<string, ImagePreprocess> = {
  /** torchvision's ImageNet evaluation transform: resize 256, crop 224, mean/std. */
  imagenet: { resize: 256, crop: [224, 224], scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  /** Pixels scaled to [0, 1]. */
  unit: { scale: 1 / 255 },
  /** Pixels as they are (0..255). */
  raw: { scale: 1 },
};

/**
 * Largest image slimnet decodes: 100 megapixels (a 12000 x 8000 photo). A PNG of a few kilobytes
 * can declare 100000 x 100000 pixels and decode to tens of gigabytes; its header is checked first.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

export function isImage(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(file).toLowerCase());
}

/** Image files directly in `dir`, or in its class subdirectories (with labels). */
export function listImages(dir: string): { files: string[]; labels?: number[]; classes?: string[] } {
  const entries = naturalSort(readdirSync(dir));
  const files = entries.filter((e) => isImage(e) && statSync(join(dir, e)).isFile()).map((e) => join(dir, e));
  if (files.length) return { files };
  const classes = entries.filter((e) => statSync(join(dir, e)).isDirectory()).sort();
  const out: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, k) => {
    // Regular files only: a FIFO named like an image would block the decoder forever.
    for (const f of naturalSort(readdirSync(join(dir, c))).filter((e) => isImage(e) && statSync(join(dir, c, e)).isFile())) {
      out.push(join(dir, c, f));
      labels.push(k);
    }
  });
  return out.length ? { files: out, labels, classes } : { files: [] };
}

interface Geometry { layout: 'NCHW' | 'NHWC'; channels: number; height: number; width: number }

function geometry(spec: InputSpec, p: ImagePreprocess, dir: string): Geometry {
  const s = spec.shape;
  if (!s || s.length < 3 || s.length > 4) throw new DataError(`${dir}: input '${spec.name}' has shape ${JSON.stringify(s)}; images feed inputs shaped [N, C, H, W] or [N, H, W, C]`);
  const dims = s.length === 4 ? s.slice(1) : s;
  const isC = (d: unknown) => d === 1 || d === 3;
  const layout = p.layout ?? (isC(dims[0]) ? 'NCHW' : isC(dims[2]) ? 'NHWC' : undefined);
  if (!layout) throw new OptionError(`${dir}: cannot tell the layout of input '${spec.name}' ${JSON.stringify(s)}; declare it (layout NCHW or NHWC)`);
  const [c, h, w] = layout === 'NCHW' ? dims : [dims[2], dims[0], dims[1]];
  if (c !== 1 && c !== 3) throw new OptionError(`${dir}: input '${spec.name}' has ${String(c)} channels; images give 1 (grey) or 3 (colour)`);
  const height = p.crop?.[0] ?? (typeof h === 'number' ? h : undefined);
  const width = p.crop?.[1] ?? (typeof w === 'number' ? w : undefined);
  if (!height || !width) throw new OptionError(`${dir}: input '${spec.name}' has a symbolic image size ${JSON.stringify(s)}; declare the crop size (crop [H, W])`);
  return { layout, channels: c, height, width };
}

type SharpFactory = typeof import('sharp').default;

async function loadSharp(): Promise<SharpFactory> {
  try {
    return (await import('sharp')).default;
  } catch (err) {
    throw new DataError(`image data needs the 'sharp' package, which failed to load (${(err as Error).message}); reinstall with npm ci`);
  }
}

export async function openImageDir(dir: string, inputs: readonly InputSpec[], preprocess: ImagePreprocess = {}): Promise<FileDataset> {
  if (inputs.length !== 1) throw new DataError(`${dir}: an image directory feeds a model with one input; this model has ${inputs.map((i) => i.name).join(', ')}`);
  const spec = inputs[0]!;
  if (spec.type !== 'float32' && spec.type !== 'uint8') throw new DataError(`${dir}: input '${spec.name}' is ${spec.type}; images feed float32 (preprocessed) or uint8 (raw pixels) inputs`);
  const g = geometry(spec, preprocess, dir);
  const { files, labels } = listImages(dir);
  const sharp = await loadSharp();
  const scale = preprocess.scale ?? 1 / 255;
  const mean = preprocess.mean ?? [0, 0, 0];
  const std = preprocess.std ?? [1, 1, 1];
  for (const [name, v] of [['mean', mean], ['std', std]] as const) {
    if (v.length !== g.channels && v.length !== 3) throw new OptionError(`preprocess ${name}: needs ${g.channels} values (got ${v.length})`);
  }
  if (std.some((x) => x === 0)) throw new OptionError('preprocess std: values must not be 0');
  const read = async (file: string, index: number): Promise<Sample> => {
    let pixels: Buffer;
    try {
      let img = sharp(file, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).rotate();
      if (preprocess.resize) {
        const meta = await sharp(file).metadata();
        const swap = (meta.orientation ?? 1) >= 5;
        const [w0, h0] = swap ? [meta.height!, meta.width!] : [meta.width!, meta.height!];
        const k = preprocess.resize / Math.min(w0, h0);
        const rw = Math.max(g.width, Math.round(w0 * k));
        const rh = Math.max(g.height, Math.round(h0 * k));
        img = img.resize({ width: rw, height: rh, fit: 'fill' }).extract({ left: (rw - g.width) >> 1, top: (rh - g.height) >> 1, width: g.width, height: g.height });
      } else {
        img = img.resize({ width: g.width, height: g.height, fit: 'cover', position: 'centre' });
      }
      img = g.channels === 1 ? img.greyscale() : img.removeAlpha().toColourspace('srgb');
      pixels = (await img.raw().toBuffer({ resolveWithObject: true })).data;
    } catch (err) {
      throw new DataError(`${file}: cannot read the image (${(err as Error).message})`);
    }
    const hw = g.height * g.width;
    const c = g.channels;
    const dims = g.layout === 'NCHW' ? [c, g.height, g.width] : [g.height, g.width, c];
    let t: TensorData;
    if (spec.type === 'uint8') {
      const out = new Uint8Array(hw * c);
      for (let i = 0; i < hw; i++) for (let ch = 0; ch < c; ch++) out[g.layout === 'NCHW' ? ch * hw + i : i * c + ch] = pixels[i * c + (preprocess.channels === 'BGR' ? c - 1 - ch : ch)]!;
      t = { type: 'uint8', dims, data: out };
    } else {
      const out = new Float32Array(hw * c);
      for (let ch = 0; ch < c; ch++) {
        const src = preprocess.channels === 'BGR' ? c - 1 - ch : ch;
        const m = mean[ch]!;
        const inv = 1 / std[ch]!;
        for (let i = 0; i < hw; i++) out[g.layout === 'NCHW' ? ch * hw + i : i * c + ch] = (pixels[i * c + src]! * scale - m) * inv;
      }
      t = { type: 'float32', dims, data: out };
    }
    const sample: Sample = { feeds: { [spec.name]: t } };
    if (labels) sample.label = labels[index]!;
    return sample;
  };
  const ds = await FileDataset.open(dir, files, read);
  ds.quickCheck = async (file) => {
    let meta: { width?: number; height?: number };
    try {
      meta = await sharp(file).metadata();
    } catch (err) {
      throw new DataError(`${file}: cannot read the image (${(err as Error).message})`);
    }
    if (!meta.width || !meta.height) throw new DataError(`${file}: cannot read the image (no image size in the header)`);
    if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
      throw new DataError(`${file}: the image is ${meta.width} x ${meta.height} pixels, over slimnet's limit of ${MAX_IMAGE_PIXELS / 1e6} megapixels; downscale it first`);
    }
  };
  return ds;
}
