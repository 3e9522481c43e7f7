import test from 'ava';
import { compareLosses, comparisonCsv, comparisonMarkdown, summariseCases, type ComparedRun } from '../src/index.js';

// One validation case with foreground class 1 (and class 2 where given).
const kase = (id: string, dice: number, hd: number, hd95: number, class2?: number) => ({
  id,
  metrics: [
    { classIndex: 1, dice, hd, hd95, assd: 0, nsd: 0 },
    ...(class2 === undefined ? [] : [{ classIndex: 2, dice: class2, hd: Number.NaN, hd95: Number.NaN, assd: Number.NaN, nsd: Number.NaN }]),
  ],
});
const run = (lossName: string, seed: number, cases: ReturnType<typeof kase>[] | undefined): ComparedRun => ({
  lossName,
  seed,
  result: { finalValidation: cases && summariseCases(cases) },
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
  // Class 2 has no distances at all: NaN, not 0, and Dice still summarised.
  const c2 = rrw!.rows[1]!;
  t.is(c2.classIndex, 2);
  t.true(Number.isNaN(c2.hd.mean) && Number.isNaN(c2.hdMax));
  t.true(Math.abs(c2.dice.mean - 0.75) < 1e-12);
  // The pooled summary keeps every case, named by seed.
  t.deepEqual(rrw!.summary.cases.map((c) => c.id), ['1/a', '1/b', '2/a', '2/c']);
});

test('with one seed the spread is over validation cases and the table says so', (t) => {
  const comparison = compareLosses([run('dice', 3, [kase('a', 0.5, 12, 3), kase('b', 0.7, 20, 5)]), run('ce', 3, [kase('a', 0.9, 2, 1)])]);
  t.deepEqual(comparison.map((c) => c.loss), ['dice', 'ce']);
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
