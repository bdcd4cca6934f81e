export { runPasses, type Pass, type PassRunLog } from './pass.js';
export { topologicalSort, sortGraph, nodeReads } from './topological-sort.js';
export { removeUnused, removeUnusedIn } from './remove-unused.js';
export { deduplicateInitializers, deduplicateInitializersExcept, deduplicateIn } from './deduplicate-initializers.js';
export { foldConstants, describeFolding, firstQuantizedNode, type FoldReport } from './fold-constants.js';
export { constantsToInitializers, constantsToInitializersIn, constantNodeTensor } from './constants-to-initializers.js';

import { removeUnused } from './remove-unused.js';
import { deduplicateInitializers } from './deduplicate-initializers.js';
import { topologicalSort } from './topological-sort.js';
import type { Pass } from './pass.js';

/** The clean-up every pipeline runs before and after rewriting. */
export const CLEANUP_PASSES: Pass[] = [removeUnused, deduplicateInitializers, topologicalSort];
