/**
 * The contract of rwseg's evaluation metrics (implemented in ./metrics/): one record per class, distances in
 * the units of the spacing (mm). Kept apart from the implementation so the trainer and the CLI can depend on it.
 */
export interface ClassMetrics {
  /** Class index (1..K-1 unless background is included). */
  readonly classIndex: number;
  readonly dice: number;
  /** Hausdorff distance (maximum of the two directed maxima). NaN by the empty-mask policy. */
  readonly hd: number;
  /** 95th-percentile Hausdorff distance (definition documented in docs/metrics.md). */
  readonly hd95: number;
  /** Average symmetric surface distance. */
  readonly assd: number;
  /** Normalized surface Dice at `nsdTolerance`. */
  readonly nsd: number;
}

export interface MetricsOptions {
  readonly numClasses: number;
  /** Include class 0 (default false). */
  readonly includeBackground?: boolean;
  /** Tolerance of the normalized surface Dice, in mm (default 1). */
  readonly nsdTolerance?: number;
}
