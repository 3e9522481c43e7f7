import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  benjaminiHochbergAdjust,
  holmAdjust,
  normalSf,
  signFlipOnDifferences,
  signFlipTest,
  signedRankTest,
  wilcoxonSignedRank,
  type Alternative,
  type ZeroMethod,
} from '../../src/index.js';

interface WilcoxonCase {
  d?: number[];
  x?: number[];
  y?: number[];
  zeroMethod: ZeroMethod;
  alternative: Alternative;
  correction: boolean;
  method: 'exact' | 'approx';
  statistic: number;
  pvalue: number;
}
interface SignFlipCase {
  x: number[];
  y: number[];
  alternative: Alternative;
  statistic: number;
  pvalue: number;
}
// Made by test/fixtures/stats/make_fixtures.py with scipy 1.10.1 (Debian bookworm).
const FIXTURE = new URL('../../../test/fixtures/stats/paired_tests.json', import.meta.url);
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
  scipy: string;
  wilcoxon: WilcoxonCase[];
  sign_flip: SignFlipCase[];
};

const close = (actual: number, expected: number, rel = 1e-9) =>
  Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-15;

test('Wilcoxon signed-rank matches scipy.stats.wilcoxon 1.10.1 on every fixture case (n = 1..60)', (t) => {
  t.is(fixture.scipy, '1.10.1');
  t.true(fixture.wilcoxon.length > 1000);
  const seen = new Set<string>();
  for (const c of fixture.wilcoxon) {
    const options = { zeroMethod: c.zeroMethod, alternative: c.alternative, correction: c.correction };
    const r = c.d ? signedRankTest(c.d, options) : wilcoxonSignedRank(c.x!, c.y!, options);
    const label = `${JSON.stringify(c.d ?? [c.x, c.y])} ${c.zeroMethod} ${c.alternative} correction=${c.correction}`;
    if (r.method !== c.method || !close(r.statistic, c.statistic, 1e-12) || !close(r.pvalue, c.pvalue)) {
      const scipy = `scipy ${c.method} T=${c.statistic} p=${c.pvalue}`;
      t.fail(`${label}: got ${r.method} T=${r.statistic} p=${r.pvalue}, ${scipy}`);
      return;
    }
    seen.add(`${c.method}/${c.zeroMethod}/${c.alternative}/${c.correction}`);
  }
  // The fixture covers both paths with every side, zero method and (on the approximation) correction.
  for (const alternative of ['two-sided', 'less', 'greater']) {
    t.true(seen.has(`exact/wilcox/${alternative}/false`));
    for (const zeroMethod of ['wilcox', 'pratt', 'zsplit']) {
      for (const correction of [false, true]) t.true(seen.has(`approx/${zeroMethod}/${alternative}/${correction}`));
    }
  }
});

test('exact Wilcoxon p-values for n = 1..5 by hand', (t) => {
  // n = 1: r+ is 0 or 1 with probability 1/2 each.
  t.is(signedRankTest([0.3]).pvalue, 1);
  t.is(signedRankTest([0.3], { alternative: 'greater' }).pvalue, 0.5);
  t.is(signedRankTest([0.3], { alternative: 'less' }).pvalue, 1);
  // n = 2, both positive: r+ = 3 of 0..3, P(r+ >= 3) = 1/4.
  t.is(signedRankTest([1, 2]).pvalue, 0.5);
  t.is(signedRankTest([1, 2], { alternative: 'greater' }).pvalue, 0.25);
  // n = 3 and 4, all positive: 2 / 2^n two-sided; n = 5: 0.0625, the smallest two-sided p five pairs can give.
  t.is(signedRankTest([1, 2, 3]).pvalue, 0.25);
  t.is(signedRankTest([1, 2, 3, 4]).pvalue, 0.125);
  t.is(signedRankTest([-1, -2, -3, -4, -5]).pvalue, 0.0625);
  // n = 4, d = [1, -2, 3, 4]: r+ = 8; subsets of {1,2,3,4} summing to >= 8: {1,3,4}, {2,3,4}, {1,2,3,4}.
  const r = signedRankTest([1, -2, 3, 4]);
  t.is(r.rankSumPositive, 8);
  t.is(r.statistic, 2);
  t.is(r.method, 'exact');
  t.is(r.pvalue, 6 / 16);
  t.is(signedRankTest([1, -2, 3, 4], { alternative: 'greater' }).pvalue, 3 / 16);
});

test('the normal approximation with ties is the closed form z = (T - n(n+1)/4) / sqrt(var / 24)', (t) => {
  // |d| = 1, 1, 2, 2, 3 (ranks 1.5, 1.5, 3.5, 3.5, 5); d signs: + - + + +: r- = 1.5, T = 1.5.
  const r = signedRankTest([1, -1, 2, 2, 3]);
  t.is(r.method, 'approx');
  t.is(r.warning, 'normal approximation on 5 difference(s) (tied |differences| rule out the exact test)');
  t.regex(signedRankTest([0, 1, 2]).warning!, /^normal approximation on 2 difference\(s\) \(zero differences rule/);
  const variance = 5 * 6 * 11 - 0.5 * (2 * 3 + 2 * 3);
  const z = (1.5 - 7.5) / Math.sqrt(variance / 24);
  t.true(close(r.zStatistic, z, 1e-14));
  t.true(close(r.pvalue, 2 * normalSf(Math.abs(z)), 1e-14));
});

test('Wilcoxon edge cases: no pairs, NaN pairs and all-zero differences give NaN with a reason, not a throw', (t) => {
  const empty = wilcoxonSignedRank([], []);
  t.true(Number.isNaN(empty.pvalue));
  t.is(empty.method, 'none');
  t.is(empty.n, 0);
  t.regex(empty.reason!, /no pairs/);
  // HD95 is NaN for either loss on two of the cases: those pairs are dropped and counted.
  const hd95 = wilcoxonSignedRank([3, Number.NaN, 5, 7, 2], [4, 6, Number.NaN, 9, 5]);
  t.is(hd95.dropped, 2);
  t.is(hd95.n, 3);
  t.is(hd95.pvalue, 0.25);
  const onlyNaN = wilcoxonSignedRank([Number.NaN], [1]);
  t.is(onlyNaN.dropped, 1);
  t.true(Number.isNaN(onlyNaN.pvalue));
  const zeros = signedRankTest([0, 0, 0]);
  t.true(Number.isNaN(zeros.pvalue));
  t.regex(zeros.reason!, /every difference is zero/);
  t.true(Number.isNaN(signedRankTest([0, 0], { zeroMethod: 'pratt' }).pvalue));
  // zsplit ranks the zeros on both sides: T sits at the center, p = 1.
  t.is(signedRankTest([0, 0, 0], { zeroMethod: 'zsplit' }).pvalue, 1);
  t.throws(() => wilcoxonSignedRank([1, 2], [1]), { message: /x has 2 values but y has 1/ });
  t.throws(() => signedRankTest([1], { alternative: 'bigger' as Alternative }), { message: /alternative 'bigger'/ });
});

test('Wilcoxon effect sizes: rank-biserial, median difference and Hodges-Lehmann', (t) => {
  // scipy's documentation example (Wilcoxon 1945): r+ = 96, r- = 24.
  const corn = signedRankTest([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]);
  t.is(corn.pvalue, 0.041259765625);
  t.is(corn.rankBiserial, (96 - 24) / 120);
  t.is(corn.medianDifference, 24);
  t.is(signedRankTest([0.1, 0.2, 0.4]).rankBiserial, 1);
  t.is(signedRankTest([-0.1, -0.2]).rankBiserial, -1);
  // Walsh averages of [1, 2, 10]: 1, 1.5, 5.5, 2, 6, 10 -> median (2 + 5.5) / 2.
  t.is(signedRankTest([1, 2, 10]).hodgesLehmann, 3.75);
  t.is(signedRankTest([1, 2, 10]).medianDifference, 2);
});

test('the sign-flip permutation test matches scipy.stats.permutation_test (samples, exact) for n = 2..16 and 18', (t) => {
  t.true(fixture.sign_flip.length > 90);
  for (const c of fixture.sign_flip) {
    const r = signFlipTest(c.x, c.y, { alternative: c.alternative });
    if (r.method !== 'exact' || !close(r.statistic, c.statistic, 1e-12) || !close(r.pvalue, c.pvalue, 1e-12)) {
      const scipy = `scipy ${c.statistic} p=${c.pvalue}`;
      t.fail(`${JSON.stringify([c.x, c.y])} ${c.alternative}: got ${r.method} ${r.statistic} p=${r.pvalue}, ${scipy}`);
      return;
    }
  }
  t.pass();
});

test('sign-flip closed forms: all-positive n gives 2 / 2^n exactly, n = 1 gives 1, and d_z is mean / sd', (t) => {
  for (let n = 1; n <= 12; n++) {
    const d = Array.from({ length: n }, (_, i) => 0.5 + i);
    t.is(signFlipOnDifferences(d).pvalue, Math.min(1, 2 / 2 ** n), `n = ${n}`);
    t.is(signFlipOnDifferences(d, { alternative: 'greater' }).pvalue, 1 / 2 ** n);
    t.is(signFlipOnDifferences(d, { alternative: 'less' }).pvalue, 1);
  }
  // d = [1, 2, 3]: mean 2, sd 1; patterns with sum >= 6: only +++; with |sum| >= 6: +++ and ---.
  const r = signFlipOnDifferences([1, 2, 3]);
  t.is(r.cohenDz, 2);
  t.is(r.sdDifference, 1);
  t.is(r.pvalue, 2 / 8);
  // Ties in the null: d = [1, 1, -2] has sums 0, 4, -2, 2, -2, 2, -4, 0: P(sum >= 0) = 5/8 counts both zeros.
  t.is(signFlipOnDifferences([1, 1, -2], { alternative: 'greater' }).pvalue, 5 / 8);
  const none = signFlipTest([Number.NaN], [Number.NaN]);
  t.true(Number.isNaN(none.pvalue));
  t.is(none.method, 'none');
  t.is(none.dropped, 1);
  t.regex(none.reason!, /no pairs/);
});

test('Monte Carlo sign flips: (1 + count) / (1 + B), seeded, and close to the exact p', (t) => {
  // 25 positive differences: no resample reaches the observed sum (chance 2^-25), so p = 2 * 1 / (B + 1).
  const positive = Array.from({ length: 25 }, (_, i) => 1 + i / 10);
  const mc = signFlipOnDifferences(positive, { resamples: 999 });
  t.is(mc.method, 'monte-carlo');
  t.is(mc.resamples, 999);
  t.is(mc.pvalue, 2 / 1000);
  // The same seed gives the same p; the exact p of 21 differences is within 4 standard errors of the sampled one.
  const d = Array.from({ length: 21 }, (_, i) => Math.sin(i * 1.7) + 0.25);
  const exact = signFlipOnDifferences(d, { maxExact: 21 });
  t.is(exact.method, 'exact');
  const sampled = signFlipOnDifferences(d, { resamples: 20000, seed: 7 });
  t.is(sampled.pvalue, signFlipOnDifferences(d, { resamples: 20000, seed: 7 }).pvalue);
  const se = 2 * Math.sqrt(((exact.pvalue / 2) * (1 - exact.pvalue / 2)) / 20000);
  t.true(Math.abs(sampled.pvalue - exact.pvalue) < 4 * se, `exact ${exact.pvalue}, sampled ${sampled.pvalue}`);
  t.throws(() => signFlipOnDifferences(d, { resamples: 0 }), { message: /resamples 0/ });
});

test('Holm and Benjamini-Hochberg adjustments by hand, NaN left out of m', (t) => {
  const p = [0.01, 0.04, 0.03, Number.NaN, 0.005];
  // Holm, m = 4: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> 0.06 (monotone).
  const holm = holmAdjust(p);
  const same = (a: readonly number[], e: readonly number[]) =>
    e.every((v, i) => (Number.isNaN(v) ? Number.isNaN(a[i]!) : close(a[i]!, v, 1e-14)));
  t.true(same(holm, [0.03, 0.06, 0.06, Number.NaN, 0.02]));
  // BH: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04.
  const bh = benjaminiHochbergAdjust(p);
  t.true(same(bh, [0.02, 0.04, 0.04, Number.NaN, 0.02]));
  t.deepEqual(holmAdjust([0.6, 0.9]), [1, 1]);
  t.deepEqual(holmAdjust([]), []);
});
