export { computeSegmentationMetrics } from './segmentation-metrics.js';
export { nanSummary, summarizeClassMetrics, type ClassSummary, type MetricSummary } from './summary.js';
export { nanMean, percentile, percentileOfSorted } from './percentile.js';
export { extractSurface, surfaceIndices } from './surface.js';
