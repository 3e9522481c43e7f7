export { planSelfContained } from './plan.js';
export type { SelfContainedPlan } from './plan.js';
export {
  resolveSelfContained,
  normalizationFromMetadata,
  DEFAULT_PERCENTILES,
  DEFAULT_LABELS_NAME,
} from './options.js';
export type { InGraphNormalization, SelfContainedOptions, ResolvedSelfContained } from './options.js';
export { inferSizeGrid } from './size-grid.js';
export { normalizeInGraph, CONSTANT_CHANNEL_STD } from './normalization-graph.js';
export { padToGrid, cropToImage } from './grid-padding.js';
export type { GridPadding } from './grid-padding.js';
