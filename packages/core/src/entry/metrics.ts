/** `@rwseg/core/metrics`: Dice, Hausdorff (HD, HD95), ASSD and NSD per class in mm, and their summaries. */
export * from '../metrics/index.js';
export type { ClassMetrics, MetricsOptions } from '../metrics-api.js';
