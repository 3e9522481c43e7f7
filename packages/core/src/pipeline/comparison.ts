/**
 * The comparison table a sweep writes: per loss and class, Dice, HD95 and HD as mean ± sd, and the largest HD of
 * any validation case (the paper reports Dice and Hausdorff distances per class).
 *
 * The spread is over seeds whenever a loss ran with more than one: each seed's mean over its validation cases is
 * one value, and the sd says how much a result moves when the seed (initialization, batches, and the split the
 * seed draws) changes. With a single seed, the only spread available is over the validation cases, and the table
 * says so in its `spread` column, since the two are not comparable.
 *
 * The second table (pairedTests) tests each loss against a reference loss on the same validation cases: the
 * cases are paired by seed, fold (when the runs have one) and case id, pooled across folds and seeds, and each
 * metric's differences (loss - reference) go to a Wilcoxon signed-rank test and a sign-flip permutation test
 * (../stats), with Holm-adjusted p-values over the table. docs/statistics.md says what is tested and how.
 */
import path from 'node:path';
import type { ClassMetrics } from '../metrics-api.js';
import { hashSeed } from '../data/random.js';
import { RwsegError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { holmAdjust } from '../stats/adjust.js';
import { signFlipOnDifferences, type SignFlipResult } from '../stats/sign-flip.js';
import { signedRankTest, type WilcoxonResult } from '../stats/wilcoxon.js';
import type { TrainingResult } from '../training/trainer.js';
import { nanSummary, summarizeCases, type MetricSummary, type ValidationResult } from '../training/validation.js';

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
  /** The cross-validation fold, when the sweep has folds: part of the key that pairs cases across losses. */
  readonly fold?: number;
  readonly result: Pick<TrainingResult, 'finalValidation'>;
}

type Cases = ValidationResult['cases'];
const metricOf = (cases: Cases, classIndex: number, key: keyof Omit<ClassMetrics, 'classIndex'>) =>
  cases.map((c) => c.metrics.find((m) => m.classIndex === classIndex)?.[key] ?? Number.NaN);

/** One row per class for one loss's runs (runs without a final validation are left out). */
function compareRuns(runs: readonly ComparedRun[]): ComparisonRow[] {
  const validated = runs.flatMap((r) =>
    r.result.finalValidation ? [{ seed: r.seed, cases: r.result.finalValidation.cases }] : [],
  );
  const classes = [
    ...new Set(validated.flatMap((r) => r.cases.flatMap((c) => c.metrics.map((m) => m.classIndex)))),
  ].sort((a, b) => a - b);
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
      summary: summarizeCases(
        own.flatMap((r) => (r.result.finalValidation?.cases ?? []).map((c) => ({ ...c, id: `${r.seed}/${c.id}` }))),
      ),
      rows: compareRuns(own),
    };
  });
}

const pm = (s: MetricSummary, digits: number) =>
  Number.isFinite(s.mean) ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : 'n/a';
const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export function comparisonMarkdown(comparison: readonly LossComparison[]): string {
  const header = ['loss', 'class', 'seeds', 'spread', 'Dice', 'HD95 (mm)', 'HD (mm)', 'HD max (mm)'];
  const rows = comparison.flatMap(({ loss, rows }) =>
    rows.map((r) => [
      loss,
      String(r.classIndex),
      String(r.seeds),
      `sd over ${r.spread}`,
      pm(r.dice, 3),
      pm(r.hd95, 2),
      pm(r.hd, 2),
      num(r.hdMax, 2),
    ]),
  );
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

export function comparisonCsv(comparison: readonly LossComparison[]): string {
  const lines = ['loss,class,seeds,spread,dice_mean,dice_sd,hd95_mean,hd95_sd,hd_mean,hd_sd,hd_max,n'];
  const csvNum = (x: number) => (Number.isFinite(x) ? String(x) : '');
  for (const { loss, rows } of comparison) {
    for (const r of rows) {
      lines.push(
        [
          loss,
          r.classIndex,
          r.seeds,
          r.spread,
          csvNum(r.dice.mean),
          csvNum(r.dice.sd),
          csvNum(r.hd95.mean),
          csvNum(r.hd95.sd),
          csvNum(r.hd.mean),
          csvNum(r.hd.sd),
          csvNum(r.hdMax),
          r.dice.n,
        ].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * comparison.md (the table above, then the paired tests when given), comparison.csv and, with the tests,
 * comparison-tests.csv; each written atomically.
 */
export function writeComparison(outDir: string, comparison: readonly LossComparison[], tests?: PairedComparison): void {
  const markdown = comparisonMarkdown(comparison) + (tests ? `\n${pairedTestsMarkdown(tests)}` : '');
  writeFileAtomic(path.join(outDir, 'comparison.md'), markdown);
  writeFileAtomic(path.join(outDir, 'comparison.csv'), comparisonCsv(comparison));
  if (tests) writeFileAtomic(path.join(outDir, 'comparison-tests.csv'), pairedTestsCsv(tests));
}

/** The per-case metrics the paired tests compare (HD is left out: one voxel decides it, HD95 is the robust one). */
export type PairedMetric = 'dice' | 'hd95' | 'assd' | 'nsd';
const PAIRED_METRICS: readonly PairedMetric[] = ['dice', 'hd95', 'assd', 'nsd'];
/** Reported even when every value is NaN (the table then says so); ASSD and NSD only when some case has one. */
const ALWAYS_TESTED: ReadonlySet<PairedMetric> = new Set(['dice', 'hd95']);

export interface PairedTestRow {
  readonly loss: string;
  readonly classIndex: number;
  readonly metric: PairedMetric;
  /** Cases with a finite value for both losses: the n of both tests. */
  readonly pairs: number;
  /** Cases of either loss without exactly one counterpart (same seed, fold and case id) in the other. */
  readonly unmatched: number;
  /** Matched cases left out because the metric is NaN for either loss (e.g. HD95 with an empty prediction). */
  readonly dropped: number;
  /** Wilcoxon signed-rank on loss - reference (zero differences dropped, scipy's defaults). */
  readonly wilcoxon: WilcoxonResult;
  /** Sign-flip permutation test of the mean of loss - reference. */
  readonly permutation: SignFlipResult;
  /** Holm-adjusted p-values over all rows of the table, one family per test. */
  readonly wilcoxonHolm: number;
  readonly permutationHolm: number;
}

export interface PairedComparison {
  readonly reference: string;
  readonly rows: readonly PairedTestRow[];
}

export interface PairedTestsOptions {
  /** The loss every other is tested against (a sweep's `reference`); default: the first loss in `runs`. */
  readonly reference?: string;
  /** Monte Carlo resamples of the permutation test past `maxExact` pairs (defaults: ../stats/sign-flip.ts). */
  readonly resamples?: number;
  readonly maxExact?: number;
}

/**
 * Every validated case of one loss, by pairing key. Cases whose key occurs more than once cannot be paired:
 * they are left out and counted (`ambiguous`).
 */
function casesByKey(runs: readonly ComparedRun[]) {
  const all = new Map<string, (readonly ClassMetrics[])[]>();
  for (const run of runs) {
    for (const c of run.result.finalValidation?.cases ?? []) {
      const key = run.fold === undefined ? `${run.seed}/${c.id}` : `${run.seed}/fold-${run.fold}/${c.id}`;
      all.set(key, [...(all.get(key) ?? []), c.metrics]);
    }
  }
  const cases = new Map([...all].filter(([, found]) => found.length === 1).map(([key, found]) => [key, found[0]!]));
  const ambiguous = [...all.values()].filter((found) => found.length > 1).reduce((n, found) => n + found.length, 0);
  return { cases, ambiguous };
}

/** Every other loss against the reference, per class and metric, with the cases pooled across folds and seeds. */
export function pairedTests(runs: readonly ComparedRun[], options: PairedTestsOptions = {}): PairedComparison {
  const names = [...new Set(runs.map((r) => r.lossName))];
  const reference = options.reference ?? names[0];
  if (reference === undefined) return { reference: '', rows: [] };
  if (!names.includes(reference)) {
    const message = `sweep.reference: '${reference}' is not one of the sweep's losses (${names.join(', ')})`;
    throw new RwsegError('INVALID_CONFIG', message, { path: 'sweep.reference', reference, losses: names });
  }
  const byLoss = new Map(names.map((name) => [name, casesByKey(runs.filter((r) => r.lossName === name))]));
  const ref = byLoss.get(reference)!;
  const valueOf = (metrics: readonly ClassMetrics[] | undefined, classIndex: number, metric: PairedMetric) =>
    metrics?.find((m) => m.classIndex === classIndex)?.[metric] ?? Number.NaN;
  const allCases = [...byLoss.values()].flatMap((l) => [...l.cases.values()]);
  const classes = [...new Set(allCases.flatMap((metrics) => metrics.map((m) => m.classIndex)))].sort((a, b) => a - b);
  const metrics = PAIRED_METRICS.filter(
    (metric) => ALWAYS_TESTED.has(metric) || allCases.some((c) => c.some((m) => Number.isFinite(m[metric]))),
  );

  const rows: Omit<PairedTestRow, 'wilcoxonHolm' | 'permutationHolm'>[] = [];
  for (const loss of names.filter((name) => name !== reference)) {
    const own = byLoss.get(loss)!;
    const shared = [...own.cases.keys()].filter((key) => ref.cases.has(key));
    const unmatched = own.cases.size + ref.cases.size - 2 * shared.length + own.ambiguous + ref.ambiguous;
    for (const classIndex of classes) {
      for (const metric of metrics) {
        const differences: number[] = [];
        for (const key of shared) {
          const a = valueOf(own.cases.get(key), classIndex, metric);
          const b = valueOf(ref.cases.get(key), classIndex, metric);
          if (Number.isFinite(a) && Number.isFinite(b)) differences.push(a - b);
        }
        const seed = hashSeed('paired-tests', loss, classIndex, metric);
        rows.push({
          loss,
          classIndex,
          metric,
          pairs: differences.length,
          unmatched,
          dropped: shared.length - differences.length,
          wilcoxon: { ...signedRankTest(differences), dropped: shared.length - differences.length },
          permutation: {
            ...signFlipOnDifferences(differences, { resamples: options.resamples, maxExact: options.maxExact, seed }),
            dropped: shared.length - differences.length,
          },
        });
      }
    }
  }
  const wilcoxonHolm = holmAdjust(rows.map((r) => r.wilcoxon.pvalue));
  const permutationHolm = holmAdjust(rows.map((r) => r.permutation.pvalue));
  const adjusted = rows.map((r, i) => ({ ...r, wilcoxonHolm: wilcoxonHolm[i]!, permutationHolm: permutationHolm[i]! }));
  return { reference, rows: adjusted };
}

const METRIC_LABEL: Record<PairedMetric, string> = { dice: 'Dice', hd95: 'HD95 (mm)', assd: 'ASSD (mm)', nsd: 'NSD' };
const METHOD_LABEL = { exact: ' (exact)', approx: ' (approx)', 'monte-carlo': ' (MC)', none: '' } as const;
/** p-values: four decimals down to 0.01 (so n = 5's 0.0625 reads as such), then three significant digits. */
const pvalue = (p: number) => (!Number.isFinite(p) ? 'n/a' : p >= 0.01 ? p.toFixed(4) : p.toExponential(2));
const signed = (x: number, digits: number) => (!Number.isFinite(x) ? 'n/a' : `${x > 0 ? '+' : ''}${x.toFixed(digits)}`);

export function pairedTestsMarkdown(tests: PairedComparison): string {
  const header = [
    'loss',
    'class',
    'metric',
    'pairs',
    'unmatched',
    'mean diff',
    'median diff',
    'Wilcoxon p',
    'Holm',
    'permutation p',
    'Holm',
    'rank-biserial r',
    'd_z',
    'note',
  ];
  const rows = tests.rows.map((r) => {
    const digits = r.metric === 'dice' || r.metric === 'nsd' ? 3 : 2;
    const dropped = r.dropped > 0 ? `${r.dropped} matched case(s) NaN on either side` : undefined;
    const note = [r.wilcoxon.reason, r.wilcoxon.warning, dropped].filter((n) => n !== undefined).join('; ');
    return [
      r.loss,
      String(r.classIndex),
      METRIC_LABEL[r.metric],
      String(r.pairs),
      String(r.unmatched),
      signed(r.permutation.meanDifference, digits),
      signed(r.wilcoxon.medianDifference, digits),
      `${pvalue(r.wilcoxon.pvalue)}${METHOD_LABEL[r.wilcoxon.method]}`,
      pvalue(r.wilcoxonHolm),
      `${pvalue(r.permutation.pvalue)}${METHOD_LABEL[r.permutation.method]}`,
      pvalue(r.permutationHolm),
      signed(r.wilcoxon.rankBiserial, 2),
      signed(r.permutation.cohenDz, 2),
      note,
    ];
  });
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const notes = [
    `Differences are loss - ${tests.reference} on the same validation case (paired by seed, fold and case id, pooled`,
    'across folds and seeds): positive is better for Dice and NSD, negative for distances. Wilcoxon: signed-rank,',
    'two-sided, zero differences dropped, exact null for n <= 50 without zeros or ties, else normal with tie',
    'correction. Permutation: sign flips of the mean difference, exact (2^n patterns) up to 20 pairs, else Monte',
    `Carlo (MC) with p = (1 + count) / (1 + B). Holm: over the ${tests.rows.length} rows, per test. With n pairs no`,
    'exact two-sided p is below 2 / 2^n (n = 5: 0.0625). docs/statistics.md',
  ];
  return `## Paired tests against ${tests.reference}\n\n${table}\n\n${notes.join('\n')}\n`;
}

export function pairedTestsCsv(tests: PairedComparison): string {
  const lines = [
    'loss,reference,class,metric,pairs,unmatched,dropped,mean_diff,median_diff,hodges_lehmann,' +
      'wilcoxon_statistic,wilcoxon_p,wilcoxon_method,wilcoxon_p_holm,rank_biserial,' +
      'permutation_p,permutation_method,permutation_resamples,permutation_p_holm,sd_diff,cohen_dz,note',
  ];
  const csvNum = (x: number) => (Number.isNaN(x) ? '' : String(x));
  const csvText = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  for (const r of tests.rows) {
    const w = r.wilcoxon;
    const p = r.permutation;
    lines.push(
      [
        r.loss,
        tests.reference,
        r.classIndex,
        r.metric,
        r.pairs,
        r.unmatched,
        r.dropped,
        csvNum(p.meanDifference),
        csvNum(w.medianDifference),
        csvNum(w.hodgesLehmann),
        csvNum(w.statistic),
        csvNum(w.pvalue),
        w.method,
        csvNum(r.wilcoxonHolm),
        csvNum(w.rankBiserial),
        csvNum(p.pvalue),
        p.method,
        p.resamples,
        csvNum(r.permutationHolm),
        csvNum(p.sdDifference),
        csvNum(p.cohenDz),
        csvText([w.reason, w.warning].filter((n) => n !== undefined).join('; ')),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}
