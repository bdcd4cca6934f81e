/**
 * Image preprocessing as the wizard asks it (pure, no terminal): whether a directory holds images,
 * the size answer ('256/224': resize the shorter side, then centre crop; '224': crop only), the
 * mean/std answer ('0.485,0.456,0.406 / 0.229,0.224,0.225', applied after scaling to [0, 1]), and
 * the equivalent --preprocess JSON for the command line.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isImage, listImages, type ImagePreprocess } from '../../src/calibrate/data/images.js';

/** A directory of images (directly, or in class subdirectories), as openDataset reads it. */
export function isImageDir(path: string): boolean {
  try {
    if (!existsSync(path) || !statSync(path).isDirectory()) return false;
    const entries = readdirSync(path);
    if (entries.some((e) => /\.(npy|npz|pb)$/i.test(e) || /^test_data_set/.test(e))) return false;
    return entries.some((e) => isImage(e) || statSync(join(path, e)).isDirectory()) && listImages(path).files.length > 0;
  } catch {
    return false;
  }
}

/** '256/224' -> resize 256, crop 224x224; '224' -> crop 224x224; '' -> the model's size. Error text when malformed. */
export function parseSize(text: string): Pick<ImagePreprocess, 'resize' | 'crop'> | string {
  const t = text.trim();
  if (!t) return {};
  const m = /^(?:(\d+)\s*\/\s*)?(\d+)(?:\s*x\s*(\d+))?$/.exec(t);
  if (!m) return `give the size as CROP, CROPxCROP or RESIZE/CROP, e.g. 224 or 256/224 (got '${t}')`;
  const crop: [number, number] = [Number(m[2]), Number(m[3] ?? m[2])];
  if (crop.some((x) => x < 1) || (m[1] !== undefined && Number(m[1]) < Math.min(...crop))) return `the resize (${m[1]}) must be at least the crop (${crop.join('x')})`;
  return { ...(m[1] !== undefined ? { resize: Number(m[1]) } : {}), crop };
}

/** '0.485,0.456,0.406 / 0.229,0.224,0.225' -> mean and std; '' -> none. Error text when malformed. */
export function parseMeanStd(text: string): Pick<ImagePreprocess, 'mean' | 'std'> | string {
  const t = text.trim();
  if (!t) return {};
  const parts = t.split('/').map((p) => p.split(',').map((x) => Number(x.trim())));
  const ok = parts.length === 2 && parts.every((p) => p.length >= 1 && p.every(Number.isFinite)) && parts[1]!.every((x) => x > 0);
  if (!ok) return `give MEAN / STD, comma-separated per channel, e.g. 0.5 / 0.5 or 0.485,0.456,0.406 / 0.229,0.224,0.225 (got '${t}')`;
  return { mean: parts[0]!, std: parts[1]! };
}

/** The steps as --preprocess JSON (slimnet calibrate and eval). */
export function preprocessJson(p: ImagePreprocess): string {
  return JSON.stringify(p);
}

/** A short label for the review screen (at most 22 columns): '256/224 mean/std NHWC', '[0, 1]'. */
export function describePreprocess(p: ImagePreprocess): string {
  const parts: string[] = [];
  if (p.crop) parts.push(`${p.resize ? `${p.resize}/` : ''}${p.crop[0] === p.crop[1] ? p.crop[0] : `${p.crop[0]}x${p.crop[1]}`}`);
  if (p.mean) parts.push('mean/std');
  else parts.push(p.scale === 1 ? '0..255' : '[0, 1]');
  if (p.layout) parts.push(p.layout);
  return parts.join(' ');
}
