/**
 * The comparison table a sweep writes: per loss and class, Dice, HD95 and HD as mean ± sd, and the largest HD of
 * any validation case (the paper reports Dice and Hausdorff distances per class).
 *
 * The spread is over seeds whenever a loss ran with more than one: each seed's mean over its validation cases is
 * one value, and the sd says how much a result moves when the seed (initialisation, batches, and the split the
 * seed draws) changes. With a single seed, the only spread available is over the validation cases, and the table
 * says so in its `spread` column, since the two are not comparable.
 */
import path from 'node:path';
import type { ClassMetrics } from '../metrics-api.js';
import { writeFileAtomic } from '../io/files.js';
import type { TrainingResult } from '../training/trainer.js';
import { nanSummary, summariseCases, type MetricSummary, type ValidationResult } from '../training/validation.js';

export interface ComparisonRow {
  readonly classIndex: number;
  /** What the sd is over: the per-seed means ('seeds') or, with one seed, the validation cases ('cases'). */
  readonly spread: 'seeds' | 'cases';
  readonly seeds: number;
  readonly dice: MetricSummary;
  readonly hd95: MetricSummary;
  readonly hd: MetricSummary;
  /** The largest HD of any validation case of any seed (NaN when no case had both structures). */
  readonly hdMax: number;
}

export interface LossComparison {
  readonly loss: string;
  readonly seeds: readonly number[];
  /** Every seed's validation cases pooled (NaN-aware), as the per-case detail behind the rows. */
  readonly summary: ValidationResult;
  readonly rows: readonly ComparisonRow[];
}

/** The part of a pipeline run the comparison reads. */
export interface ComparedRun {
  readonly lossName: string;
  readonly seed: number;
  readonly result: Pick<TrainingResult, 'finalValidation'>;
}

type Cases = ValidationResult['cases'];
const metricOf = (cases: Cases, classIndex: number, key: keyof Omit<ClassMetrics, 'classIndex'>) =>
  cases.map((c) => c.metrics.find((m) => m.classIndex === classIndex)?.[key] ?? Number.NaN);

/** One row per class for one loss's runs (runs without a final validation are left out). */
function compareRuns(runs: readonly ComparedRun[]): ComparisonRow[] {
  const validated = runs.flatMap((r) => (r.result.finalValidation ? [{ seed: r.seed, cases: r.result.finalValidation.cases }] : []));
  const classes = [...new Set(validated.flatMap((r) => r.cases.flatMap((c) => c.metrics.map((m) => m.classIndex))))].sort((a, b) => a - b);
  const overSeeds = validated.length > 1;
  return classes.map((classIndex) => {
    const summary = (key: 'dice' | 'hd95' | 'hd') =>
      overSeeds
        ? nanSummary(validated.map((r) => nanSummary(metricOf(r.cases, classIndex, key)).mean))
        : nanSummary(validated.flatMap((r) => metricOf(r.cases, classIndex, key)));
    const hds = validated.flatMap((r) => metricOf(r.cases, classIndex, 'hd')).filter(Number.isFinite);
    return {
      classIndex,
      spread: overSeeds ? 'seeds' : 'cases',
      seeds: validated.length,
      dice: summary('dice'),
      hd95: summary('hd95'),
      hd: summary('hd'),
      hdMax: hds.length > 0 ? Math.max(...hds) : Number.NaN,
    };
  });
}

/** Per loss, in the order the losses first appear in `runs`. */
export function compareLosses(runs: readonly ComparedRun[]): LossComparison[] {
  const names = [...new Set(runs.map((r) => r.lossName))];
  return names.map((loss) => {
    const own = runs.filter((r) => r.lossName === loss);
    return {
      loss,
      seeds: own.filter((r) => r.result.finalValidation).map((r) => r.seed),
      summary: summariseCases(own.flatMap((r) => (r.result.finalValidation?.cases ?? []).map((c) => ({ ...c, id: `${r.seed}/${c.id}` })))),
      rows: compareRuns(own),
    };
  });
}

const pm = (s: MetricSummary, digits: number) => (Number.isFinite(s.mean) ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : 'n/a');
const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export function comparisonMarkdown(comparison: readonly LossComparison[]): string {
  const header = ['loss', 'class', 'seeds', 'spread', 'Dice', 'HD95 (mm)', 'HD (mm)', 'HD max (mm)'];
  const rows = comparison.flatMap(({ loss, rows }) =>
    rows.map((r) => [loss, String(r.classIndex), String(r.seeds), `sd over ${r.spread}`, pm(r.dice, 3), pm(r.hd95, 2), pm(r.hd, 2), num(r.hdMax, 2)]),
  );
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

export function comparisonCsv(comparison: readonly LossComparison[]): string {
  const lines = ['loss,class,seeds,spread,dice_mean,dice_sd,hd95_mean,hd95_sd,hd_mean,hd_sd,hd_max,n'];
  const csvNum = (x: number) => (Number.isFinite(x) ? String(x) : '');
  for (const { loss, rows } of comparison) {
    for (const r of rows) {
      lines.push([loss, r.classIndex, r.seeds, r.spread, csvNum(r.dice.mean), csvNum(r.dice.sd), csvNum(r.hd95.mean), csvNum(r.hd95.sd), csvNum(r.hd.mean), csvNum(r.hd.sd), csvNum(r.hdMax), r.dice.n].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

export function writeComparison(outDir: string, comparison: readonly LossComparison[]): void {
  writeFileAtomic(path.join(outDir, 'comparison.md'), comparisonMarkdown(comparison));
  writeFileAtomic(path.join(outDir, 'comparison.csv'), comparisonCsv(comparison));
}
