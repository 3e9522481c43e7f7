/** The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default). Sorts `values` in place. */
export function percentile(values: Float64Array, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  values.sort();
  const h = ((n - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return values[lo]! + (h - lo) * (values[hi]! - values[lo]!);
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
