/**
 * Multiple-comparison adjustment of the p-values of one table. NaN p-values (tests that could not run) are
 * not hypotheses: they stay NaN and do not count in m.
 * - Holm (1979): step-down; controls the family-wise error rate under any dependence.
 * - Benjamini-Hochberg (1995): step-up; controls the false discovery rate (independent or positively dependent).
 * Both return adjusted p-values in the input order (compare them with alpha directly).
 */

function finiteOrder(p: readonly number[]): number[] {
  return p
    .map((_, i) => i)
    .filter((i) => !Number.isNaN(p[i]!))
    .sort((a, b) => p[a]! - p[b]!);
}

/** Holm: p_(i) * (m - i + 1), made non-decreasing along the sorted order, capped at 1. */
export function holmAdjust(p: readonly number[]): number[] {
  const order = finiteOrder(p);
  const m = order.length;
  const out = p.map(() => Number.NaN);
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[index]!));
    out[index] = running;
  });
  return out;
}

/** Benjamini-Hochberg: p_(i) * m / i, made non-increasing from the largest down, capped at 1. */
export function benjaminiHochbergAdjust(p: readonly number[]): number[] {
  const order = finiteOrder(p);
  const m = order.length;
  const out = p.map(() => Number.NaN);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank]!;
    running = Math.min(running, (m * p[index]!) / (rank + 1));
    out[index] = running;
  }
  return out;
}
