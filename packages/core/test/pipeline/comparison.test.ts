import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  compareLosses,
  comparisonCsv,
  comparisonMarkdown,
  pairedTests,
  pairedTestsCsv,
  parsePipeline,
  summarizeCases,
  writeComparison,
  type ComparedRun,
} from '../../src/index.js';

// One validation case with foreground class 1 (and class 2 where given).
const kase = (id: string, dice: number, hd: number, hd95: number, class2?: number) => ({
  id,
  metrics: [
    { classIndex: 1, dice, hd, hd95, assd: 0, nsd: 0 },
    ...(class2 === undefined
      ? []
      : [{ classIndex: 2, dice: class2, hd: Number.NaN, hd95: Number.NaN, assd: Number.NaN, nsd: Number.NaN }]),
  ],
});
const run = (lossName: string, seed: number, cases: ReturnType<typeof kase>[] | undefined): ComparedRun => ({
  lossName,
  seed,
  result: { finalValidation: cases && summarizeCases(cases) },
});

test('with several seeds the spread is the sd of the per-seed means, and HD max is over every case', (t) => {
  const [rrw] = compareLosses([
    run('rrw', 1, [kase('a', 0.8, 10, 4, 0.5), kase('b', 0.6, 30, 8, 0.7)]),
    run('rrw', 2, [kase('a', 0.9, 5, 2, 0.9), kase('c', 0.9, 7, 6, 0.9)]),
  ]);
  t.deepEqual(rrw!.seeds, [1, 2]);
  const fg = rrw!.rows[0]!;
  t.is(fg.spread, 'seeds');
  t.is(fg.seeds, 2);
  // Per-seed Dice means 0.7 and 0.9: mean 0.8, sample sd sqrt(2 * 0.1^2 / 1).
  t.true(Math.abs(fg.dice.mean - 0.8) < 1e-12);
  t.true(Math.abs(fg.dice.sd - Math.SQRT2 * 0.1) < 1e-12);
  // HD per-seed means 20 and 6; HD95 6 and 4.
  t.true(Math.abs(fg.hd.mean - 13) < 1e-12);
  t.true(Math.abs(fg.hd95.mean - 5) < 1e-12);
  t.is(fg.hdMax, 30);
  // Class 2 has no distances at all: NaN, not 0, and Dice still summarized.
  const c2 = rrw!.rows[1]!;
  t.is(c2.classIndex, 2);
  t.true(Number.isNaN(c2.hd.mean) && Number.isNaN(c2.hdMax));
  t.true(Math.abs(c2.dice.mean - 0.75) < 1e-12);
  // The pooled summary keeps every case, named by seed.
  t.deepEqual(
    rrw!.summary.cases.map((c) => c.id),
    ['1/a', '1/b', '2/a', '2/c'],
  );
});

test('with one seed the spread is over validation cases and the table says so', (t) => {
  const comparison = compareLosses([
    run('dice', 3, [kase('a', 0.5, 12, 3), kase('b', 0.7, 20, 5)]),
    run('ce', 3, [kase('a', 0.9, 2, 1)]),
  ]);
  t.deepEqual(
    comparison.map((c) => c.loss),
    ['dice', 'ce'],
  );
  const dice = comparison[0]!.rows[0]!;
  t.is(dice.spread, 'cases');
  t.true(Math.abs(dice.dice.mean - 0.6) < 1e-12);
  t.true(Math.abs(dice.dice.sd - Math.SQRT2 * 0.1) < 1e-12);
  const md = comparisonMarkdown(comparison).trim().split('\n');
  t.is(md[0], '| loss | class | seeds | spread | Dice | HD95 (mm) | HD (mm) | HD max (mm) |');
  t.is(md[2], '| dice | 1 | 1 | sd over cases | 0.600 ± 0.141 | 4.00 ± 1.41 | 16.00 ± 5.66 | 20.00 |');
  const csv = comparisonCsv(comparison).trim().split('\n');
  t.is(csv[0], 'loss,class,seeds,spread,dice_mean,dice_sd,hd95_mean,hd95_sd,hd_mean,hd_sd,hd_max,n');
  t.regex(csv[2]!, /^ce,1,1,cases,0\.9,0,1,0,2,0,2,1$/);
});

test('a run without a final validation is left out of the seeds rather than averaged as nothing', (t) => {
  const [loss] = compareLosses([run('focal', 1, [kase('a', 0.4, 9, 9)]), run('focal', 2, undefined)]);
  t.deepEqual(loss!.seeds, [1]);
  t.is(loss!.rows[0]!.spread, 'cases');
  t.is(loss!.rows[0]!.dice.mean, 0.4);
});

// Paired tests: 'dice' is the reference; 'rrw' is better on every case by a known, distinct amount.
const ids = ['a', 'b', 'c', 'd'];
const base = (seed: number, i: number) => ({ dice: 0.6 + 0.02 * i + 0.001 * seed, hd95: 5 + i + seed });
const referenceRuns = [1, 2].map((seed) =>
  run(
    'dice',
    seed,
    ids.map((id, i) => kase(id, base(seed, i).dice, 20, base(seed, i).hd95)),
  ),
);
// rrw on seed 2 lacks case d; its HD95 of seed 1 case b is NaN (e.g. an empty prediction).
const offsets = new Map(['1/a', '1/b', '1/c', '1/d', '2/a', '2/b', '2/c'].map((key, i) => [key, i + 1]));
const rrwRuns = [1, 2].map((seed) =>
  run(
    'rrw',
    seed,
    ids.flatMap((id, i) => {
      const k = offsets.get(`${seed}/${id}`);
      if (k === undefined) return [];
      const hd95 = seed === 1 && id === 'b' ? Number.NaN : base(seed, i).hd95 - 0.5 * k;
      return [kase(id, base(seed, i).dice + 0.01 * k, 20, hd95)];
    }),
  ),
);

test('paired tests pair cases by seed and case id and give the known differences and exact p-values', (t) => {
  const tests = pairedTests([...referenceRuns, ...rrwRuns]);
  t.is(tests.reference, 'dice');
  // Class 1 only; Dice and HD95 always, ASSD and NSD because the cases have them.
  const keys = tests.rows.map((r) => `${r.loss}/${r.classIndex}/${r.metric}`);
  t.deepEqual(keys, ['rrw/1/dice', 'rrw/1/hd95', 'rrw/1/assd', 'rrw/1/nsd']);
  const [dice, hd95, assd] = tests.rows;
  // Dice: 7 pairs (2/d has no rrw counterpart), all differences positive, 0.01..0.07.
  t.is(dice!.pairs, 7);
  t.is(dice!.unmatched, 1);
  t.is(dice!.dropped, 0);
  t.true(Math.abs(dice!.permutation.meanDifference - 0.04) < 1e-12);
  t.true(Math.abs(dice!.wilcoxon.medianDifference - 0.04) < 1e-12);
  t.is(dice!.wilcoxon.method, 'exact');
  t.is(dice!.wilcoxon.pvalue, 2 / 2 ** 7);
  t.is(dice!.permutation.method, 'exact');
  t.is(dice!.permutation.pvalue, 2 / 2 ** 7);
  t.is(dice!.wilcoxon.rankBiserial, 1);
  // HD95: the NaN pair is dropped, 6 left, all lower for rrw (negative differences, -0.5 k).
  t.is(hd95!.pairs, 6);
  t.is(hd95!.dropped, 1);
  t.is(hd95!.wilcoxon.pvalue, 2 / 2 ** 6);
  t.is(hd95!.wilcoxon.rankBiserial, -1);
  t.true(Math.abs(hd95!.permutation.meanDifference - (-0.5 * (1 + 3 + 4 + 5 + 6 + 7)) / 6) < 1e-12);
  // ASSD is 0 everywhere: the Wilcoxon test has nothing to rank (NaN with the reason); sign flips give p = 1.
  t.true(Number.isNaN(assd!.wilcoxon.pvalue));
  t.regex(assd!.wilcoxon.reason!, /every difference is zero/);
  t.is(assd!.permutation.pvalue, 1);
  // Holm over the table: Wilcoxon has two p-values (2/128, 2/64) -> both 2/64; permutation four (2/128, 2/64, 1, 1).
  t.deepEqual(tests.rows.map((r) => r.wilcoxonHolm).slice(0, 2), [2 / 64, 2 / 64]);
  t.true(Number.isNaN(tests.rows[2]!.wilcoxonHolm));
  t.deepEqual(
    tests.rows.map((r) => r.permutationHolm),
    [4 * (2 / 128), 3 * (2 / 64), 1, 1],
  );
});

test('the reference can be any loss (differences change sign) and an unknown one is a clear error', (t) => {
  const tests = pairedTests([...referenceRuns, ...rrwRuns], { reference: 'rrw' });
  t.is(tests.rows[0]!.loss, 'dice');
  t.true(Math.abs(tests.rows[0]!.permutation.meanDifference + 0.04) < 1e-12);
  t.is(tests.rows[0]!.wilcoxon.rankBiserial, -1);
  const error = t.throws(() => pairedTests([...referenceRuns, ...rrwRuns], { reference: 'focal' }));
  t.is(error!.message, "sweep.reference: 'focal' is not one of the sweep's losses (dice, rrw)");
  const pipeline = {
    dataset: { kind: 'synthetic', shape: [32, 32] },
    preprocessing: { patch: [32, 32] },
    loss: 'rrw',
    training: { epochs: 1, iterationsPerEpoch: 1 },
    sweep: {
      losses: [
        { name: 'ce', loss: 'ce' },
        { name: 'rrw', loss: 'rrw' },
      ],
      reference: 'Dice',
    },
  };
  const unknown = /^pipeline: sweep\.reference: 'Dice' is not one of the sweep's losses \(ce, rrw\)/;
  t.regex(t.throws(() => parsePipeline(pipeline))!.message, unknown);
  t.is(parsePipeline({ ...pipeline, sweep: { ...pipeline.sweep, reference: 'rrw' } }).sweep!.reference, 'rrw');
});

test('with folds, the pairing key is seed + fold + case id, pooled across folds', (t) => {
  // The same case ids in two folds: without the fold in the key they would collide.
  const foldRuns = (loss: string, shift: number): ComparedRun[] =>
    [0, 1].map((fold) => ({
      ...run(
        loss,
        1,
        ['a', 'b', 'c'].map((id, i) => kase(id, 0.5 + 0.1 * i + shift * (1 + i + 3 * fold), 9, 3)),
      ),
      fold,
    }));
  const tests = pairedTests([...foldRuns('ce', 0), ...foldRuns('rrw', 0.001)]);
  const dice = tests.rows.find((r) => r.metric === 'dice')!;
  t.is(dice.pairs, 6);
  t.is(dice.unmatched, 0);
  t.is(dice.wilcoxon.pvalue, 2 / 2 ** 6);
  // Two runs with the same seed and no fold: their 6 cases cannot be told apart, so all 12 are left unmatched.
  const noFolds = foldRuns('ce', 0).map((r) => ({ ...r, fold: undefined }));
  const ambiguous = pairedTests([...noFolds, ...foldRuns('rrw', 0.001)]);
  t.is(ambiguous.rows[0]!.pairs, 0);
  t.is(ambiguous.rows[0]!.unmatched, 6 + 6);
  t.true(Number.isNaN(ambiguous.rows[0]!.wilcoxon.pvalue));
});

test('comparison.md gets the paired-tests table after the existing one, and comparison-tests.csv its rows', (t) => {
  const runs = [...referenceRuns, ...rrwRuns];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rwseg-comparison-'));
  try {
    writeComparison(dir, compareLosses(runs), pairedTests(runs));
    const md = readFileSync(path.join(dir, 'comparison.md'), 'utf8');
    t.true(md.startsWith(comparisonMarkdown(compareLosses(runs))));
    const lines = md.split('\n');
    const at = lines.indexOf('## Paired tests against dice');
    t.true(at > 0);
    const cells = (line: string | undefined) =>
      line!
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    t.deepEqual(cells(lines[at + 2]), [
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
    ]);
    t.deepEqual(cells(lines[at + 4]), [
      'rrw',
      '1',
      'Dice',
      '7',
      '1',
      '+0.040',
      '+0.040',
      '0.0156 (exact)',
      '0.0313',
      '0.0156 (exact)',
      '0.0625',
      '+1.00',
      '+1.85',
      '',
    ]);
    const hd95 = ['rrw', '1', 'HD95 (mm)', '6', '1', '-2.17', '-2.25', '0.0313 (exact)'];
    t.deepEqual(cells(lines[at + 5]).slice(0, 8), hd95);
    t.is(cells(lines[at + 5]).at(-1), '1 matched case(s) NaN on either side');
    const assd = cells(lines[at + 6]);
    t.deepEqual([assd[2], assd[3], assd[7], assd[8], assd[9]], ['ASSD (mm)', '7', 'n/a', 'n/a', '1.0000 (exact)']);
    t.regex(assd.at(-1)!, /every difference is zero/);
    const csv = readFileSync(path.join(dir, 'comparison-tests.csv'), 'utf8');
    t.is(csv, pairedTestsCsv(pairedTests(runs)));
    const rows = csv.trim().split('\n');
    t.is(rows.length, 5);
    t.true(rows[0]!.startsWith('loss,reference,class,metric,pairs,unmatched,dropped,mean_diff,'));
    const dice = rows[1]!.split(',');
    t.deepEqual(dice.slice(0, 7), ['rrw', 'dice', '1', 'dice', '7', '1', '0']);
    t.deepEqual(dice.slice(10, 19), ['0', '0.015625', 'exact', '0.03125', '1', '0.015625', 'exact', '128', '0.0625']);
    t.true(Math.abs(Number(dice[7]) - 0.04) < 1e-12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
