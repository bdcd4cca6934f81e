/** The clean-up every quantizer runs on its result: the IR's, with one zero point kept per weight. */
import { deduplicateInitializersExcept, removeUnused, topologicalSort, type Pass } from '../ir/passes/index.js';
import { isWeightZeroPoint } from '../ops/weight-zero-points.js';

export const QUANTIZED_CLEANUP_PASSES: Pass[] = [
  removeUnused,
  // ONNX Runtime's x64quantprecision rewrite fails on a zero point shared by two weights.
  deduplicateInitializersExcept(isWeightZeroPoint, 'deduplicate-initializers (one zero point per weight)'),
  topologicalSort,
];
