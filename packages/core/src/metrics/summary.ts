/**
 * Per-class summaries of metrics over many cases, the one summarizer validation, evaluation and loss comparisons
 * use: NaN-aware (a class absent from both masks has NaN distances and drops out), with how many values each
 * mean is over.
 */
import type { ClassMetrics } from '../metrics-api.js';

export interface MetricSummary {
  readonly mean: number;
  /** Sample standard deviation (0 for one value). */
  readonly sd: number;
  /** How many finite values the mean is over. */
  readonly n: number;
}

export interface ClassSummary {
  readonly classIndex: number;
  /** Cases that report this class (n of a metric is how many of them gave a finite value). */
  readonly volumes: number;
  readonly dice: MetricSummary;
  readonly hd: MetricSummary;
  readonly hd95: MetricSummary;
  readonly assd: MetricSummary;
  readonly nsd: MetricSummary;
}

/** Mean and sample standard deviation of the finite values. */
export function nanSummary(values: readonly number[]): MetricSummary {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { mean: Number.NaN, sd: Number.NaN, n: 0 };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd = finite.length > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1)) : 0;
  return { mean, sd, n: finite.length };
}

/** Each class's metrics summarized over the cases (one ClassMetrics list per case), by ascending class index. */
export function summarizeClassMetrics(perCase: readonly (readonly ClassMetrics[])[]): ClassSummary[] {
  const byClass = new Map<number, ClassMetrics[]>();
  for (const metrics of perCase) {
    for (const m of metrics) byClass.set(m.classIndex, [...(byClass.get(m.classIndex) ?? []), m]);
  }
  return [...byClass.entries()]
    .sort(([a], [b]) => a - b)
    .map(([classIndex, rows]) => ({
      classIndex,
      volumes: rows.length,
      dice: nanSummary(rows.map((r) => r.dice)),
      hd: nanSummary(rows.map((r) => r.hd)),
      hd95: nanSummary(rows.map((r) => r.hd95)),
      assd: nanSummary(rows.map((r) => r.assd)),
      nsd: nanSummary(rows.map((r) => r.nsd)),
    }));
}
