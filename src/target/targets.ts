/**
 * Targets as data: the machines (and runtimes) a quantized model can be written for, and what each
 * one means for int8. The one property that changes the arithmetic is whether u8 x s8 products are
 * summed exactly: on x86 without VNNI, MLAS's U8S8 kernels (VPMADDUBSW) add pairs of products into a
 * saturating int16, so int8 weights are only exact there within a pair budget, or stored as uint8
 * for the U8U8 kernels (docs/research/x86-saturation.md). Everything else a target decides (where
 * to time, which placement to assume when it cannot time) is read from here by quantize and eval.
 */

export type TargetName =
  | 'x86-avx2' | 'x86-avx512' | 'x86-vnni' | 'x86-amx'
  | 'arm64' | 'arm64-dotprod' | 'arm64-i8mm'
  | 'wasm';

/** What times a model for the target: onnxruntime-node's CPU EP, or onnxruntime-web's wasm backend. */
export type TargetRuntime = 'cpu' | 'wasm';

export interface TargetSpec {
  name: TargetName;
  arch: 'x64' | 'arm64' | 'wasm';
  runtime: TargetRuntime;
  /** One line for summaries and --help. */
  description: string;
  /**
   * u8 x s8 dot products are summed without intermediate saturation. False only for x86 without
   * VNNI/AMX, whose U8S8 kernels sum pairs of products into a saturating int16.
   */
  u8s8Exact: boolean;
  /** The placement profile assumed when the target cannot be timed from this machine. */
  untimedPlacement: 'full' | 'compute' | 'weights';
}

export const TARGETS: Readonly<Record<TargetName, TargetSpec>> = {
  'x86-avx2': {
    name: 'x86-avx2', arch: 'x64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: false,
    description: 'x86-64 with AVX2, no AVX-512 and no VNNI (AMD Zen 1-3, Intel Haswell to Comet Lake; also older SSE4-only CPUs)',
  },
  'x86-avx512': {
    name: 'x86-avx512', arch: 'x64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: false,
    description: 'x86-64 with AVX-512 but no VNNI (Intel Skylake-SP/X)',
  },
  'x86-vnni': {
    name: 'x86-vnni', arch: 'x64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: true,
    description: 'x86-64 with AVX-512 VNNI or AVX-VNNI (Intel Cascade Lake and later, Alder Lake and later, AMD Zen 4 and later)',
  },
  'x86-amx': {
    name: 'x86-amx', arch: 'x64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: true,
    description: 'x86-64 with AMX int8 (Intel Sapphire Rapids and later)',
  },
  'arm64': {
    name: 'arm64', arch: 'arm64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: true,
    description: 'ARM64 with NEON only (widening multiplies: exact)',
  },
  'arm64-dotprod': {
    name: 'arm64-dotprod', arch: 'arm64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: true,
    description: 'ARM64 with the dot-product instructions (SDOT/UDOT: Cortex-A76, Neoverse N1, Apple M1 and later)',
  },
  'arm64-i8mm': {
    name: 'arm64-i8mm', arch: 'arm64', runtime: 'cpu', untimedPlacement: 'full', u8s8Exact: true,
    description: 'ARM64 with int8 matrix multiply (I8MM/USMMLA: Neoverse V1/N2, Graviton 3 and later, Apple M2 and later)',
  },
  'wasm': {
    name: 'wasm', arch: 'wasm', runtime: 'wasm', untimedPlacement: 'compute', u8s8Exact: true,
    description: 'onnxruntime-web, wasm backend (SIMD, browsers and Node); timed in onnxruntime-web itself',
  },
};

export const TARGET_NAMES: readonly TargetName[] = Object.keys(TARGETS) as TargetName[];

/** The names users may pass to --target: 'host' (the default) and every target. */
export const TARGET_CHOICES: readonly string[] = ['host', ...TARGET_NAMES];
