export { computeSegmentationMetrics, summarizeClassMetrics, type ClassMetricsSummary } from './segmentation-metrics.js';
export { nanMean, percentile, percentileOfSorted } from './percentile.js';
export { extractSurface, surfaceIndices } from './surface.js';
