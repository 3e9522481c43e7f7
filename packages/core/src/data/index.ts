export type { Batch, BatchSource, ScaleTargets } from './batch.js';
// Seeds and streams; hashSeed and oneHotInto / batchTransferList are internals of the loader.
export { createRandom, deriveSeed, Random } from './random.js';
export * from './dataset.js';
export * from './labels.js';
export * from './msd.js';
export * from './folder.js';
export * from './synthetic.js';
export * from './splits.js';
export * from './open-dataset.js';
export * from './preprocess.js';
export * from './augment.js';
export * from './sampler.js';
export { buildBatch, downsampleLabels, type BuildBatchOptions } from './batch-builder.js';
export * from './batch-producer.js';
export * from './loader.js';
export * from './check.js';
export * from './convert.js';
