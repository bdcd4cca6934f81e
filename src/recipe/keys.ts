/** The options each kind of recipe step keeps: those that shape the model (the rest is how to search). */
export const STATIC_KEYS = ['format', 'perChannel', 'activations', 'weights', 'target', 'symmetricActivations', 'reduceRange', 'exclude', 'opTypes', 'storeConstants', 'preprocess', 'method', 'percentile', 'equalization', 'biasCorrection', 'smoothQuant', 'smoothQuantAlpha'] as const;
export const DYNAMIC_KEYS = ['perChannel', 'format', 'opTypes', 'target', 'weights', 'reduceRange', 'exclude'] as const;
export const WEIGHT_ONLY_KEYS = ['weights', 'blockSize', 'layerWeights', 'symmetric', 'algorithm', 'accuracyLevel', 'format', 'activations', 'calibSize', 'dampPercent', 'opTypes', 'exclude', 'target'] as const;
export const FP16_KEYS = ['keepIoTypes', 'preprocess', 'blockOps', 'exclude'] as const;
export const PRUNE_KEYS = ['sparsity', 'method', 'scope', 'pattern', 'calibSize', 'exclude', 'includeFirstLast', 'importance', 'reconstruct', 'channelMultiple', 'dampPercent'] as const;

