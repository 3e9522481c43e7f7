/** The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default). Sorts `values` in place. */
export function percentile(values: Float64Array, q: number): number {
  return percentileOfSorted(values.sort(), q);
}

/** The q-th percentile (0..100, clamped) of values already sorted ascending, interpolated as numpy's default. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = ((n - 1) * Math.min(100, Math.max(0, q))) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Mean of the values that are not NaN; NaN when there are none (the paper averages HD over volumes this way). */
export function nanMean(values: Iterable<number>): number {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    count++;
  }
  return count === 0 ? Number.NaN : sum / count;
}
