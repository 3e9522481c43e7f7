/**
 * `@rwseg/core/metrics`: Dice, Hausdorff (HD, HD95), ASSD and NSD per class in mm (docs/metrics.md), and their
 * summaries over cases (mean and standard deviation, NaN skipped).
 */
export { computeSegmentationMetrics } from '../metrics/segmentation-metrics.js';
export type { ClassMetrics, MetricsOptions } from '../metrics-api.js';
export { nanSummary, summarizeClassMetrics, type ClassSummary, type MetricSummary } from '../metrics/summary.js';
export { percentile } from '../metrics/percentile.js';
