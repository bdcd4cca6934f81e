/**
 * Why bytes did not decode as a ModelProto, in words a user can act on. protobufjs reports a text
 * or JSON file as "index out of range" (it reads the first letters as field tags and lengths), the
 * same error a truncated model gives; the first bytes tell these cases apart.
 */
import protobuf from 'protobufjs';
import { looksLikeText, textKind } from '../sniff.js';

/** Formats other tools write that people pass by mistake, by their first bytes. */
const SIGNATURES: [prefix: number[], what: string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (a .npz, or a PyTorch .pt checkpoint); export the model to ONNX first'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a NumPy .npy array, not a model'],
  [[0x80], 'a Python pickle (a PyTorch or scikit-learn file); export the model to ONNX first'],
  [[0x1f, 0x8b], 'a gzip file; decompress it first'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (Keras .h5); convert it to ONNX first (tf2onnx)'],
];

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

export function whyNotOnnx(bytes: Uint8Array, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/call stack|nesting depth|max depth/i.test(message)) return 'its messages are nested too deeply to be a real model (a damaged or hostile file)';
  for (const [prefix, what] of SIGNATURES) if (startsWith(bytes, prefix)) return `this is ${what}`;
  if (looksLikeText(bytes)) return `this is ${textKind(bytes)}; an ONNX model is a binary protobuf file (.onnx)`;
  if (err instanceof protobuf.util.ProtocolError || err instanceof RangeError) return `the file is truncated or not an ONNX model (${message})`;
  return `the file is not an ONNX protobuf (${message})`;
}
