/** Which execution providers this onnxruntime-node install can use, and how to get the others. */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutionProvider, ProviderStatus } from './types.js';

const require = createRequire(import.meta.url);

export const KNOWN_PROVIDERS: ExecutionProvider[] = ['cpu', 'cuda', 'tensorrt', 'webgpu', 'dml', 'coreml', 'qnn'];

function packageDir(): string {
  return dirname(require.resolve('onnxruntime-node/package.json'));
}

export function ortVersion(): string {
  return (JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Directory holding onnxruntime_binding.node and the provider libraries. */
export function bindingDir(): string {
  const arch = process.arch;
  const platform = process.platform;
  for (const napi of ['napi-v6', 'napi-v3']) {
    const d = join(packageDir(), 'bin', napi, platform, arch);
    if (existsSync(d)) return d;
  }
  return join(packageDir(), 'bin', 'napi-v6', platform, arch);
}

const INSTALL_CUDA =
  "its libraries are not part of onnxruntime-node's npm package. On a machine with an NVIDIA GPU and CUDA 12, " +
  'run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (it downloads them from NuGet; slimnet\'s .npmrc skips that download by default)';

/** Static availability (files present, platform) without starting a session. */
export function providerStatus(name: ExecutionProvider): ProviderStatus {
  const lib = (n: string) => existsSync(join(bindingDir(), `libonnxruntime_providers_${n}.so`));
  switch (name) {
    case 'cpu':
      return { name, available: true };
    case 'cuda':
      return lib('cuda') && lib('shared') ? { name, available: true } : { name, available: false, reason: `CUDA: ${INSTALL_CUDA}` };
    case 'tensorrt':
      return lib('tensorrt') && lib('shared')
        ? { name, available: true }
        : { name, available: false, reason: `TensorRT: ${INSTALL_CUDA}, plus TensorRT 10 from NVIDIA` };
    case 'webgpu':
      // Bundled, but it needs a GPU adapter (Vulkan on Linux); sessions that cannot get one fall back with a note.
      return process.platform === 'linux' || process.platform === 'win32' || process.platform === 'darwin'
        ? { name, available: true }
        : { name, available: false, reason: 'WebGPU is not built for this platform' };
    case 'dml':
      return process.platform === 'win32' ? { name, available: true } : { name, available: false, reason: 'DirectML runs on Windows only' };
    case 'coreml':
      return process.platform === 'darwin' ? { name, available: true } : { name, available: false, reason: 'CoreML runs on macOS only' };
    case 'qnn':
      return { name, available: false, reason: 'QNN (Qualcomm NPU) is not included in onnxruntime-node for this platform' };
    case 'wasm':
      // Not an onnxruntime-node provider: onnxruntime-web's backend, hosted by a wasm Engine.
      return { name, available: false, reason: "'wasm' is onnxruntime-web's backend, not onnxruntime-node's: use new Engine({ runtime: 'wasm' })" };
    default:
      return { name, available: false, reason: `unknown execution provider '${name as string}' (known: ${KNOWN_PROVIDERS.join(', ')})` };
  }
}

/**
 * A provider that is installed but could not start a session, said in one line with the way out
 * (ONNX Runtime's own message is a source location and an assertion).
 */
export function explainProviderFailure(name: ExecutionProvider, message: string): string {
  if (name === 'webgpu' && /adapter/i.test(message)) {
    return 'WebGPU found no GPU adapter on this machine (on Linux it needs a GPU with Vulkan drivers: apt-get install libvulkan1 mesa-vulkan-drivers)';
  }
  if (name === 'cuda' && /libcudart|libcublas|libcudnn|CUDA driver|no CUDA-capable device/i.test(message)) {
    return `CUDA could not start (${message.split('\n')[0]!.slice(0, 160)}); it needs an NVIDIA GPU with its driver, CUDA 12 and cuDNN 9`;
  }
  // Drop the "<file>: <provider>: <source path:line> ..." prefixes, keep what ORT says went wrong.
  const text = message.split('\n')[0]!.replace(/^.*?\b(?:was false|failed)\.\s*/, '');
  return `${name} failed to start: ${text.slice(0, 200)}`;
}
